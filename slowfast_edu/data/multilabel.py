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
import tempfile
from pathlib import Path

import torch

from .kinetics import KineticsDataset, decode_whole_videos, load_classnames
from .transforms import test_transform, train_transform


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


class MultiLabelDataset(KineticsDataset):
    """SlowFast views of a multi-label list: items are `([slow, fast], target, video_index)`
    with `target` (K,) multi-hot, otherwise exactly `KineticsDataset`'s (views, transforms,
    caching, skipping of videos that fail to decode)."""

    def __init__(self, source: str | os.PathLike, mode: str = "train",
                 video_root: str | os.PathLike | None = None,
                 classnames: list[str] | str | os.PathLike | None = None,
                 num_frames: int = 32, sampling_rate: int = 2, alpha: int = 4,
                 target_fps: float = 30.0, num_clips: int = 10, num_crops: int = 3,
                 crop_size: int = 224, short_side: tuple[int, int] = (256, 320),
                 test_short_side: int = 256, test_crop_size: int = 256, flip: bool = True,
                 backend: str = "auto", max_retries: int = 20,
                 log_dir: str | os.PathLike | None = None, cache: bool = False,
                 progress: bool = False) -> None:
        # KineticsDataset.__init__ reads single-label lists; this sets up what it sets up, from
        # a multi-label list (tests/data/test_synthetic_multilabel.py checks nothing is missed)
        if mode not in ("train", "test"):
            raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
        listed = read_multilabel_list(source, video_root)
        if classnames is None and (Path(source).parent / "classnames.json").is_file():
            classnames = Path(source).parent / "classnames.json"
        if isinstance(classnames, (str, os.PathLike)):
            classnames = load_classnames(classnames)
        largest = max((max(ids, default=-1) for _, ids in listed), default=-1)
        self.classnames = classnames or [str(i) for i in range(largest + 1)]
        if largest >= len(self.classnames):
            raise ValueError(f"{source}: class id {largest} is not among the "
                             f"{len(self.classnames)} class names")
        self.missing = [str(p) for p, _ in listed if not p.exists()]
        self.videos = [(p, multi_hot(ids, len(self.classnames))) for p, ids in listed
                       if p.exists()]
        if not self.videos:
            raise FileNotFoundError(f"none of the {len(listed)} videos listed in {source} exist "
                                    f"(first: {listed[0][0] if listed else '-'})")
        self.mode, self.alpha, self.backend, self.max_retries = mode, alpha, backend, max_retries
        self.num_frames, self.sampling_rate, self.target_fps = num_frames, sampling_rate, target_fps
        self.num_clips, self.num_crops = (num_clips, num_crops) if mode == "test" else (1, 1)
        if mode == "train":
            self.transforms = [train_transform(crop_size, *short_side, flip=flip)]
        else:
            spatial = [1] if num_crops == 1 else list(range(num_crops))
            self.transforms = [test_transform(test_short_side, test_crop_size, i) for i in spatial]
        # failures are appended to files there, so DataLoader workers can report them too
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="slowfast_edu_skipped_"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.cache = None
        if cache:
            self.cache = decode_whole_videos([path for path, _ in self.videos], backend, progress)

    def __repr__(self) -> str:
        return (f"MultiLabelDataset({len(self.videos)} videos, {len(self.classnames)} classes, "
                f"mode={self.mode!r}, {len(self)} views, {len(self.missing)} missing)")
