"""Multi-label video lists: several classes per video, as in Charades (157 actions, mAP).

A list has one `path labels` line per video, space separated, no header (as PySlowFast's
single-label lists), `labels` the video's class ids joined by commas (`train/0007.mp4 0,5`; `-`
for a video of no class, a negative for every class). `MultiLabelDataset` reads it and gives what
`KineticsDataset` gives, with a multi-hot target (K,) in place of the class id: the views, the
transforms, the in-memory cache and the skipping of videos that fail to decode are
`KineticsDataset`'s own. `data.synthetic_multilabel.write_dataset` writes such a set.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..labels import load_label_map
from .kinetics import KineticsDataset


def read_multilabel_list(source: str | os.PathLike, video_root: str | os.PathLike | None = None
                         ) -> list[tuple[Path, tuple[int, ...]]]:
    """(path, class ids) per line of a `path labels` list (labels: ids joined by commas; an
    empty set is written `-`); paths relative to `video_root`, by default the list's folder."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"no video list at {source}")
    root = Path(video_root or source.parent)
    videos = []
    for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        path, _, labels = line.strip().rpartition(" ")
        ids = [] if labels == "-" else labels.split(",")
        if not path or not all(i.isdigit() for i in ids):
            raise ValueError(f"{source}, line {n}: expected `path labels` with labels like "
                             f"0,3,5 (or - for none), got {line!r}")
        videos.append((root / path, tuple(sorted({int(i) for i in ids}))))
    return videos


def multi_hot(ids: tuple[int, ...], num_classes: int) -> torch.Tensor:
    """(K,) float target: 1 for each class in `ids`, 0 elsewhere."""
    target = torch.zeros(num_classes)
    target[list(ids)] = 1.0
    return target


def read_multilabel_videos(source: str | os.PathLike, video_root: str | os.PathLike | None = None,
                           classnames: list[str] | None = None
                           ) -> tuple[list[tuple[Path, torch.Tensor]], list[str]]:
    """(path, multi-hot target (K,)) per video of a multi-label list, and the class names:
    `classnames`, else the list folder's `classnames.json`, else the ids."""
    listed = read_multilabel_list(source, video_root)
    if classnames is None and (Path(source).parent / "classnames.json").is_file():
        classnames = load_label_map(Path(source).parent / "classnames.json")
    largest = max((max(ids, default=-1) for _, ids in listed), default=-1)
    classnames = classnames or [str(i) for i in range(largest + 1)]
    if largest >= len(classnames):
        raise ValueError(f"{source}: class id {largest} is not among the "
                         f"{len(classnames)} class names")
    return [(p, multi_hot(ids, len(classnames))) for p, ids in listed], classnames


class MultiLabelDataset(KineticsDataset):
    """SlowFast views of a multi-label list: items are `([slow, fast], target, video_index)`
    with `target` (K,) multi-hot, otherwise exactly `KineticsDataset`'s (arguments, views,
    transforms, caching, skipping of videos that fail to decode); the class names are
    `classnames`, else the list folder's `classnames.json`, else the ids."""

    def read_list(self, source: str | os.PathLike, video_root: str | os.PathLike | None,
                  classnames: list[str] | None, split: str | None
                  ) -> tuple[list[tuple[Path, torch.Tensor]], list[str]]:
        """(path, multi-hot target) pairs and class names of a multi-label list."""
        if split is not None:
            raise ValueError(f"{source}: a multi-label list has no splits (split={split!r})")
        return read_multilabel_videos(source, video_root, classnames)

    def __repr__(self) -> str:
        return (f"MultiLabelDataset({len(self.videos)} videos, {len(self.classnames)} classes, "
                f"mode={self.mode!r}, {len(self)} views, {len(self.missing)} missing)")
