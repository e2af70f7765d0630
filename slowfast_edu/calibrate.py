"""Fit a model's domain check (`models/domain.py`) on the clips it was trained on.

    check = fit_domain_check(load_model("best.pt"), "data/synthetic_64/train.csv",
                             "data/synthetic_64_heldout/val.csv")

The statistics come from the training list, `clips` windows per video (centre crop, as tested);
the threshold from a held-out list of clips of the same world that the model never saw (for the
synthetic set: the generator with another seed). `slowfast-edu export --domain-train CSV
--domain-heldout CSV` stores the result with the model; `make default-model` does so.
"""

from __future__ import annotations

import os

import torch
from tqdm.auto import tqdm

from .data import VideoDecodeError, read_video_list
from .models import DomainCheck, LoadedModel
from .models.domain import QUANTILE, RANK, capture_pooled_features, fit_domain, input_statistics
from .views import read_views


def view_features(loaded: LoadedModel, videos: list, clips: int = 4, batch_size: int = 32,
                  progress: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Pooled features (N, D), labels (N,) and input statistics ({name: (N,)}) of `clips`
    windows of each (path, label) in `videos`; unreadable videos are skipped and counted."""
    network = loaded.inference_network()
    features, labels, stats, skipped = [], [], [], 0
    pending: list[tuple[list[torch.Tensor], int]] = []

    def run() -> None:
        inputs = [torch.cat([p[0][i] for p in pending]) for i in range(len(pending[0][0]))]
        with torch.no_grad(), capture_pooled_features(network) as pooled:
            network(inputs)
        features.append(pooled[0])
        stats.append(input_statistics(inputs[-1]))
        labels.extend(label for p in pending for label in [p[1]] * len(p[0][0]))
        pending.clear()

    for path, label in tqdm(videos, desc="domain statistics", unit="video", disable=not progress):
        try:
            views = read_views(path, loaded.geometry, (clips, 1), arch=loaded.arch,
                               mean=loaded.mean, std=loaded.std)
        except VideoDecodeError:
            skipped += 1
            continue
        pending.append((views.inputs, label))
        if sum(len(p[0][0]) for p in pending) >= batch_size:
            run()
    if pending:
        run()
    if not features:
        raise ValueError(f"none of the {len(videos)} videos could be read")
    merged = {k: torch.cat([s[k] for s in stats]) for k in stats[0]}
    merged["skipped"] = torch.tensor(skipped)
    return torch.cat(features), torch.tensor(labels), merged


def fit_domain_check(loaded: LoadedModel, train: str | os.PathLike, heldout: str | os.PathLike,
                     clips: int = 4, rank: int = RANK, description: str = "",
                     progress: bool = True) -> DomainCheck:
    """The domain check of `loaded` from its training list and a held-out list (video lists in
    any layout `read_video_list` reads); `description`: its world in words, for notices."""
    train_videos, _ = read_video_list(train)
    heldout_videos, _ = read_video_list(heldout)
    features, labels, stats = view_features(loaded, train_videos, clips, progress=progress)
    skipped = int(stats.pop("skipped"))
    held, held_labels, held_stats = view_features(loaded, heldout_videos, 1, progress=progress)
    held_skipped = int(held_stats.pop("skipped"))
    check = fit_domain(features, labels, stats, held, rank, QUANTILE,
                       description=description or f"the clips of {train}")
    score = check.score(held, held_stats)
    network = loaded.inference_network()
    with torch.no_grad():
        predicted = network.head.proj(held).argmax(dim=1)
    check.info.update({
        "train_list": os.fspath(train), "heldout_list": os.fspath(heldout),
        "windows_per_video": clips, "skipped": skipped + held_skipped,
        "heldout_accepted": float(score.inside.float().mean()),
        "heldout_top1": float((predicted == held_labels).float().mean()),
        "threshold": check.threshold})
    return check

