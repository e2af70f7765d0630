"""Kinetics-style video datasets: a list of videos with labels, read as SlowFast views.

Three ways to say which videos there are:
  (a) the PySlowFast / PyTorchVideo CSV: `path label` per line, space separated, no header;
  (b) the official Kinetics annotation CSV (`label,youtube_id,time_start,time_end,split[,is_cc]`)
      with a video root holding `{youtube_id}_{start:06d}_{end:06d}.mp4`, flat or per class;
  (c) a folder with one sub-folder of videos per class.

Training gives one random view per video; testing gives K temporal x 3 spatial views per video with
the video's index, so the scores can be averaged per video. Videos listed but absent are dropped at
the start (`dataset.missing`); a video that fails to decode is skipped and logged
(`dataset.pop_skipped()`), from any DataLoader worker: an epoch never crashes. In training another
video's view stands in for it; in testing its views come back with video index -1 (and zeros),
so that no other video's score is counted twice. The log lives in a temporary folder made on the
first failure and removed when the failures are popped or the dataset is deleted.

`cache=True` is for small sets (the synthetic motion set: 240 training videos of 64 frames,
100-200 MB): every video is decoded once, when the dataset is made, and kept in memory as uint8
frames; each view then samples its window and crop from memory. The views are exactly those of
reading the files every time (the same frames, the same random draws), only without decoding at
every epoch, which costs more than a training step of a tiny model. DataLoader workers started by
fork share the decoded frames with the main process.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ..labels import load_label_map
from .sampling import pack_pathways, sample_indices
from .transforms import test_transform, train_transform
from .video import VideoDecodeError, VideoReader

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".webm", ".mov", ".m4v")


def read_video_list(source: str | os.PathLike, video_root: str | os.PathLike | None = None,
                    classnames: list[str] | None = None, split: str | None = None
                    ) -> tuple[list[tuple[Path, int]], list[str]]:
    """(path, label) pairs and class names from any of the three layouts."""
    source = Path(source)
    if source.is_dir():  # (c) one folder per class
        classnames = classnames or sorted(p.name for p in source.iterdir() if p.is_dir())
        videos = [(p, label) for label, name in enumerate(classnames)
                  for p in sorted((source / name).iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
        return videos, classnames
    if not source.is_file():
        raise FileNotFoundError(f"no video list at {source}")
    with open(source, newline="", encoding="utf-8") as f:
        first = f.readline()
    if first.startswith("label,youtube_id"):  # (b) the official annotations
        return _read_annotations(source, Path(video_root or source.parent), classnames, split)
    root = Path(video_root or source.parent)  # (a) `path label`
    videos = []
    for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        path, _, label = line.strip().rpartition(" ")
        if not path or not label.lstrip("-").isdigit():
            raise ValueError(f"{source}, line {n}: expected `path label`, got {line!r}")
        videos.append((root / path, int(label)))
    return videos, classnames or [str(i) for i in range(max(lbl for _, lbl in videos) + 1)]


def _read_annotations(source: Path, root: Path, classnames: list[str] | None,
                      split: str | None) -> tuple[list[tuple[Path, int]], list[str]]:
    with open(source, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if split is None or r.get("split") == split]
    classnames = classnames or sorted({r["label"] for r in rows})
    ids = {name: i for i, name in enumerate(classnames)}
    videos = []
    for r in rows:
        if r["label"] not in ids:
            raise ValueError(f"{source}: class {r['label']!r} is not in the class names")
        name = f"{r['youtube_id']}_{int(float(r['time_start'])):06d}_{int(float(r['time_end'])):06d}"
        candidates = [root / f"{name}{s}" for s in VIDEO_SUFFIXES] + [
            root / r["label"] / f"{name}{s}" for s in VIDEO_SUFFIXES]
        path = next((p for p in candidates if p.exists()), candidates[0])
        videos.append((path, ids[r["label"]]))
    return videos, classnames


class KineticsDataset(Dataset):
    """SlowFast views of a list of videos: items are `([slow, fast], label, video_index)`."""

    def __init__(self, source: str | os.PathLike, mode: str = "train",
                 video_root: str | os.PathLike | None = None,
                 classnames: list[str] | str | os.PathLike | None = None,
                 num_frames: int = 32, sampling_rate: int = 2, alpha: int = 4,
                 target_fps: float = 30.0, num_clips: int = 10, num_crops: int = 3,
                 crop_size: int = 224, short_side: tuple[int, int] = (256, 320),
                 test_short_side: int = 256, test_crop_size: int = 256, flip: bool = True,
                 split: str | None = None,
                 backend: str = "auto", max_retries: int = 20,
                 log_dir: str | os.PathLike | None = None, cache: bool = False,
                 progress: bool = False) -> None:
        if mode not in ("train", "test"):
            raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
        if isinstance(classnames, (str, os.PathLike)):
            classnames = load_label_map(classnames)
        listed, self.classnames = self.read_list(source, video_root, classnames, split)
        self.missing = [str(p) for p, _ in listed if not p.exists()]
        self.videos = [(p, label) for p, label in listed if p.exists()]
        if not self.videos:
            raise FileNotFoundError(f"none of the {len(listed)} videos listed in {source} exist "
                                    f"(first: {listed[0][0] if listed else '-'})")
        self.mode, self.alpha, self.backend, self.max_retries = mode, alpha, backend, max_retries
        self.num_frames, self.sampling_rate, self.target_fps = num_frames, sampling_rate, target_fps
        self.num_clips, self.num_crops = (num_clips, num_crops) if mode == "test" else (1, 1)
        if mode == "train":
            # random flips unless flip=False (direction is the label: left/right motion classes)
            self.transforms = [train_transform(crop_size, *short_side, flip=flip)]
        else:
            spatial = [1] if num_crops == 1 else list(range(num_crops))
            self.transforms = [test_transform(test_short_side, test_crop_size, i) for i in spatial]
        self.test_crop_size = test_crop_size
        # failures are appended to files, so DataLoader workers can report them too; our own
        # folder is made on the first failure and removed by pop_skipped or with the dataset
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.gettempdir()) / (
            f"slowfast_edu_skipped_{os.getpid()}_{uuid.uuid4().hex[:8]}")
        if self._own_log_dir:  # only in the process that made it (not in forked workers)
            weakref.finalize(self, _remove_log_dir, self.log_dir, os.getpid())
        # video index -> (all frames (N, H, W, 3) uint8, fps), or the decoding error to re-raise
        self.cache: dict[int, tuple[torch.Tensor, float] | Exception] | None = None
        if cache:
            self.cache = decode_whole_videos([path for path, _ in self.videos], backend,
                                             progress)

    def __len__(self) -> int:
        return len(self.videos) * self.num_clips * self.num_crops

    def __getitem__(self, index: int):
        for _ in range(self.max_retries):
            video = index // (self.num_clips * self.num_crops)
            path, label = self.videos[video]
            try:
                return self._view(index, path), label, video
            except (VideoDecodeError, OSError) as e:
                self._log_skip(path, e)
                error = e
                if self.mode == "test":  # no stand-in: video -1 is left out of the scores
                    side = self.test_crop_size
                    blank = torch.zeros(3, self.num_frames, side, side)  # (3, T, H, W)
                    return pack_pathways(blank, self.alpha), label, -1
                index = int(torch.randint(len(self), ()))  # another video's view instead
        raise RuntimeError(f"{self.max_retries} videos in a row failed to decode (the last: "
                           f"{path}: {error}); are the videos readable at all?")

    def read_list(self, source: str | os.PathLike, video_root: str | os.PathLike | None,
                  classnames: list[str] | None, split: str | None
                  ) -> tuple[list[tuple[Path, object]], list[str]]:
        """(path, target) pairs and class names of `source` (a subclass reads other lists)."""
        return read_video_list(source, video_root, classnames, split)

    def _view(self, index: int, path: Path) -> list[torch.Tensor]:
        clip_index = (index // self.num_crops) % self.num_clips if self.mode == "test" else -1
        video = index // (self.num_clips * self.num_crops)
        if self.cache is not None:
            cached = self.cache[video]
            if isinstance(cached, Exception):  # skipped and replaced, as when read each time
                raise cached
            everything, fps = cached  # (N, H, W, 3) uint8
            indices = sample_indices(len(everything), fps, self.num_frames, self.sampling_rate,
                                     self.target_fps, clip_index, self.num_clips)
            frames = everything[indices]  # (T, H, W, 3) uint8
        else:
            with VideoReader(path, backend=self.backend) as reader:
                indices = sample_indices(reader.num_frames, reader.fps, self.num_frames,
                                         self.sampling_rate, self.target_fps, clip_index,
                                         self.num_clips)
                frames = reader.get_frames(indices)  # (T, H, W, 3) uint8
        clip = self.transforms[index % len(self.transforms)](frames)  # (3, T, h, w)
        return pack_pathways(clip, self.alpha)

    def _log_skip(self, path: Path, error: Exception) -> None:
        line = f"{path}\t{str(error).replace(chr(10), ' ')}\n"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"skipped-{os.getpid()}.tsv", "a", encoding="utf-8") as f:
            f.write(line)

    def pop_skipped(self) -> dict[str, str]:
        """Videos that failed to decode since the last call, from every worker: {path: reason}."""
        skipped = {}
        for log in sorted(self.log_dir.glob("skipped-*.tsv")):
            for line in log.read_text(encoding="utf-8").splitlines():
                path, _, reason = line.partition("\t")
                skipped[path] = reason
            log.unlink()
        if self._own_log_dir:
            _remove_log_dir(self.log_dir, os.getpid())
        return skipped

    def __repr__(self) -> str:
        return (f"KineticsDataset({len(self.videos)} videos, {len(self.classnames)} classes, "
                f"mode={self.mode!r}, {len(self)} views, {len(self.missing)} missing)")


def _remove_log_dir(folder: Path, owner: int) -> None:
    """Remove a dataset's own log folder, from the process that made it only."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def decode_whole_videos(paths: list[Path], backend: str = "auto", progress: bool = False
                        ) -> dict[int, tuple[torch.Tensor, float] | Exception]:
    """{i: (every frame of paths[i] as (N, H, W, 3) uint8, fps) or the error that stopped it}.

    One video after the other, in this thread, with PyAV for "auto": decord's threads, started
    in a process, can crash or hang the DataLoader workers it forks later, and PyAV's frames are
    the same as decord's wherever "auto" would choose decord.
    """
    backend = "pyav" if backend == "auto" else backend
    decoded: dict[int, tuple[torch.Tensor, float] | Exception] = {}
    for i, path in enumerate(tqdm(paths, unit="video", desc="decoding videos into memory",
                                  disable=not progress)):
        try:
            with VideoReader(path, backend=backend) as reader:
                decoded[i] = reader.get_frames(range(reader.num_frames)), reader.fps
        except (VideoDecodeError, OSError) as e:
            decoded[i] = e
    return decoded
