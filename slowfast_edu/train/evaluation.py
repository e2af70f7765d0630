"""Evaluation as the paper reports it: each video's views through the model, softmax scores
averaged per video (`VideoScores`), top-1 and top-5."""

from __future__ import annotations

from contextlib import nullcontext

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .metrics import VideoScores


def model_inputs(batch_inputs: list[torch.Tensor], arch: str, device: torch.device,
                 channels_last: bool = False) -> list[torch.Tensor]:
    """The pathways a model takes from a dataset's `[slow, fast]`: both, or the one it has."""
    chosen = {"slowfast": batch_inputs, "slow": batch_inputs[:1], "fast": batch_inputs[1:]}[arch]
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    return [x.to(device, non_blocking=True, memory_format=fmt) for x in chosen]


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, num_classes: int, device: torch.device,
             autocast=nullcontext, channels_last: bool = False, progress: bool = True) -> dict:
    """Top-1/top-5 with softmax scores averaged over each video's views; per-class accuracy."""
    was_training = model.training
    model.eval()
    scores = VideoScores(num_classes)
    arch = unwrap(model).cfg.arch
    for inputs, labels, videos in tqdm(loader, desc="eval", leave=False, disable=not progress):
        with autocast():
            logits = model(model_inputs(inputs, arch, device, channels_last))
        scores.add(logits, labels, videos)
    model.train(was_training)
    return scores.results()


def unwrap(model: nn.Module) -> nn.Module:
    """The network inside a `torch.compile` or DistributedDataParallel wrapper."""
    model = getattr(model, "_orig_mod", model)  # torch.compile
    return model.module if isinstance(model, DistributedDataParallel) else model
