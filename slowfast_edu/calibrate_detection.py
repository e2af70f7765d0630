"""Fit a detector's domain check (`models/domain.py`) on the boxes it was trained on.

    check = fit_detector_domain_check(load_model("best.pt"), "data/synthetic_detection/train.csv",
                                      "data/synthetic_detection/videos",
                                      "data/synthetic_detection_heldout/val.csv",
                                      "data/synthetic_detection_heldout/videos")

The classifier's check, one level down: a detector answers per box, so the features are per box,
the input of the RoI head's linear layer (the pathways' RoIAligned, max-pooled res5 features,
`capture_pooled_features` works unchanged), with the box's action as its class. The input
statistics are those of the box's clip. The statistics come from the training key frames with
their ground-truth boxes (the test view: no jitter, the whole frame), the threshold from a
held-out set of the same world that the model never saw (the generator with another seed).
`make default-detector` stores the result in the default detector.
"""

from __future__ import annotations

import os

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .data.ava_dataset import AvaDataset, ava_collate
from .models import DomainCheck, LoadedModel
from .models.domain import QUANTILE, RANK, capture_pooled_features, fit_domain, input_statistics


def detection_view(loaded: LoadedModel, annotations: str | os.PathLike,
                   video_root: str | os.PathLike) -> AvaDataset:
    """The key frames of an AVA-format CSV read as the detector is tested: its clip, the whole
    frame at its test short side, the ground-truth boxes."""
    g = loaded.geometry
    return AvaDataset(annotations, video_root, mode="test", num_classes=len(loaded.classnames),
                      num_frames=g.num_frames, sampling_rate=g.sampling_rate, alpha=g.alpha,
                      target_fps=g.target_fps, test_short_side=g.test_short_side, flip=False,
                      cache=True)


def box_features(loaded: LoadedModel, dataset: AvaDataset, batch_size: int = 16,
                 progress: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Pooled features (N, D) of every box of `dataset`, its action (N,) (the first, for a
    multi-label box) and its clip's input statistics ({name: (N,)})."""
    network = loaded.inference_network()
    features, labels, stats = [], [], []
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=ava_collate)
    for inputs, boxes, hot, _ in tqdm(loader, desc="domain statistics", unit="batch",
                                      disable=not progress):
        inputs = {"slowfast": inputs, "slow": inputs[:1], "fast": inputs[1:]}[loaded.arch]
        with torch.no_grad(), capture_pooled_features(network) as pooled:
            network(inputs, boxes)
        features.append(pooled[0])  # (K, D)
        labels.append(hot.argmax(dim=1))  # (K,)
        clip = boxes[:, 0].long()  # the clip of each box
        stats.append({k: v[clip] for k, v in input_statistics(inputs[-1]).items()})
    return (torch.cat(features), torch.cat(labels),
            {k: torch.cat([s[k] for s in stats]) for k in stats[0]})


def fit_detector_domain_check(loaded: LoadedModel, train: str | os.PathLike,
                              train_videos: str | os.PathLike, heldout: str | os.PathLike,
                              heldout_videos: str | os.PathLike, rank: int = RANK,
                              description: str = "", progress: bool = True) -> DomainCheck:
    """The domain check of the detector `loaded` from its training annotations and a held-out
    set's (AVA-format CSVs and their video folders); `description`: its world in words."""
    features, labels, stats = box_features(loaded, detection_view(loaded, train, train_videos),
                                           progress=progress)
    held, held_labels, held_stats = box_features(
        loaded, detection_view(loaded, heldout, heldout_videos), progress=progress)
    check = fit_domain(features, labels, stats, held, rank, QUANTILE,
                       description=description or f"the boxes of {train}")
    score = check.score(held, held_stats)
    with torch.no_grad():
        predicted = loaded.inference_network().head.proj(held).argmax(dim=1)
    check.info.update({
        "task": "detection", "train_list": os.fspath(train), "heldout_list": os.fspath(heldout),
        "train_boxes": len(features), "heldout_boxes": len(held),
        "heldout_accepted": float(score.inside.float().mean()),
        "heldout_top1": float((predicted == held_labels).float().mean()),
        "threshold": check.threshold})
    return check
