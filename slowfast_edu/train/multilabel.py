"""Multi-label training, as PySlowFast trains Charades: the trainer's few multi-label choices.

A config selects it with `model.head: multilabel` (the `MultiLabelHead` of `models.head`: a
sigmoid per class). Then:
- the data lists are multi-label (`path 0,3,5` per line, `data.multilabel.MultiLabelDataset`),
  and `data.synthetic` makes the synthetic multi-label set (`data.synthetic_multilabel`, with
  `train_per_class x 6` training and `val_per_class x 6` validation videos);
- the loss is the head's own (`head.loss`: binary cross-entropy on multi-hot targets; the
  trainer asks every head for its loss, so single-label runs keep their cross-entropy);
- validation and `slowfast-edu eval` report mAP over the classes, each video's score for a class
  being the maximum over its views (the Charades protocol, `slowfast_edu.mean_ap`); `best.pt` is
  kept on mAP. The training log's "top1" is the fraction of clips whose top-scored class is one
  of theirs, which for one label per clip is top-1 itself (`top1_hits`).
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.multilabel import read_multilabel_videos
from ..labels import load_label_map
from ..mean_ap import MultiLabelScores
from ..models import get_config
from ..models.head import HEADS, MultiLabelHead
from .evaluation import model_inputs, unwrap


def is_multilabel(config: dict) -> bool:
    """Whether a resolved config's model has a multi-label head (`model.head: multilabel`)."""
    model = config["model"]
    head = get_config(model["name"], **model["overrides"]).head
    return issubclass(HEADS.choose(head), MultiLabelHead)


def top1_hits(logits: torch.Tensor, targets: torch.Tensor) -> int:
    """How many clips have their top-scored class among their labels: targets are class ids (B,)
    (then this is top-1) or multi-hot (B, K)."""
    top = logits.argmax(dim=1)  # (B,)
    if targets.dim() == 1:
        return int((top == targets).sum())
    return int(targets.gather(1, top[:, None]).sum())  # (B, 1): 1 where the top class is present


def multilabel_class_names(data: dict) -> list[str]:
    """The class names of a multi-label training list, without opening a video."""
    names = load_label_map(data["classnames"]) if data["classnames"] else None
    return read_multilabel_videos(data["train"], data["video_root"], names)[1]


def write_synthetic_multilabel(folder: os.PathLike, spec: dict, progress: bool) -> None:
    """The synthetic multi-label set that a `data.synthetic` section asks for, in `folder`."""
    from ..data.synthetic import CLASSES
    from ..data.synthetic_multilabel import write_dataset

    write_dataset(folder, videos_train=spec.get("train_per_class", 40) * len(CLASSES),
                  videos_val=spec.get("val_per_class", 20) * len(CLASSES),
                  num_frames=spec.get("frames", 32), size=spec.get("size", 64),
                  seed=spec.get("seed", 0), workers=min(2, os.cpu_count() or 1),
                  progress=progress)


@torch.no_grad()
def evaluate_multilabel(model: nn.Module, loader: DataLoader, num_classes: int,
                        device: torch.device, autocast=nullcontext, channels_last: bool = False,
                        progress: bool = True) -> dict:
    """mAP over classes, each video scored by the maximum of its views' sigmoids (Charades);
    also `top1`, the fraction of videos whose top class is one of theirs."""
    was_training = model.training
    model.eval()
    scores = MultiLabelScores(num_classes, reduce="max")
    arch = unwrap(model).cfg.arch
    for inputs, targets, videos in tqdm(loader, desc="eval", leave=False, disable=not progress):
        with autocast():
            logits = model(model_inputs(inputs, arch, device, channels_last))
        scores.add(logits, targets, videos)
    model.train(was_training)
    return scores.results()
