"""`AvaDataset`: the clip around each key frame of an AVA-style set, its person boxes and actions.

One item per key frame (AVA: one per second, 902 ... 1798 s of each movie): the clip of
`num_frames` frames every `sampling_rate` frames (at `target_fps`) centred on the key frame, as
`[slow, fast]`; the key frame's boxes, in pixels of the transformed clip; and one multi-hot row of
actions per box (column `action_id - 1`: AVA's ids start at 1). Frame `i` of a video is at
`video_start + i / fps` seconds of the movie; the key frame at `timestamp` is frame
`round((timestamp - video_start) * fps)`, and the clip takes the frames `-num_frames / 2 *
sampling_rate` ... `+(num_frames / 2 - 1) * sampling_rate` around it (PySlowFast's), repeating the
first or last frame where the video ends.

The videos, in `video_root`, one per `video_id`, either
- a video file `{video_id}.mp4` (or .mkv, .webm, .avi, .mov, .m4v), read with `VideoReader`; or
- a folder `{video_id}/` of frames (`.jpg` or `.png`, in name order, e.g. PySlowFast's
  `{video_id}_000001.jpg`), at `frame_fps` (AVA's frames are extracted at 30 fps).
A movie downloaded whole starts at 0 s (`video_start=0`); PySlowFast cuts each one to its 15 AVA
minutes and extracts frames from the cut, which starts at 900 s: `video_start=900` for those.

Training (`mode="train"`): short side jittered, random crop, horizontal flip (never for a set whose
actions are left and right), each box's edges moved at random by up to `box_jitter` of its width
and height; the ground-truth boxes. Testing (`mode="test"`): short side `test_short_side`, the
whole frame (as PySlowFast tests AVA) or a centre crop of `test_crop_size`; the ground-truth
boxes, or with `proposals` the person boxes a detector found with a score of at least
`score_threshold` (the paper: 0.8). Key frames of `excluded` are left out. A video that is missing
is dropped when the dataset is made (`dataset.missing`), one that fails to decode is skipped,
replaced and logged (`dataset.pop_skipped()`), as `KineticsDataset` does.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from .ava import AvaBox, read_annotations, read_excluded, read_proposals
from .kinetics import VIDEO_SUFFIXES, _remove_log_dir, decode_whole_videos
from .sampling import pack_pathways, window_length
from .transforms import MEAN, STD
from .video import VideoDecodeError, VideoReader

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


class KeyFrame(NamedTuple):
    """One item's key frame: where it is, its boxes (normalised) and their multi-hot actions."""

    video_id: str
    timestamp: int
    boxes: torch.Tensor  # (K, 4) x1, y1, x2, y2 in [0, 1]
    labels: torch.Tensor  # (K, num_classes) 0 or 1


def key_frames(rows: Iterable[AvaBox], num_classes: int, source: str = "the annotations"
               ) -> list[KeyFrame]:
    """Group rows by key frame and box: one `KeyFrame` per (video, timestamp), in file order."""
    frames: dict[tuple[str, int], dict[tuple[float, ...], set[int]]] = defaultdict(dict)
    for r in rows:
        actions = frames[r.video_id, r.timestamp].setdefault(r.box, set())
        if r.action_id is not None:
            if not 1 <= r.action_id <= num_classes:
                raise ValueError(f"{source}: action {r.action_id} of {r.video_id} at "
                                 f"{r.timestamp} s is outside 1..{num_classes} (num_classes)")
            actions.add(r.action_id)
    out = []
    for (video, timestamp), boxes in frames.items():
        labels = torch.zeros(len(boxes), num_classes)
        for i, actions in enumerate(boxes.values()):
            labels[i, [a - 1 for a in actions]] = 1.0
        out.append(KeyFrame(video, timestamp, torch.tensor(list(boxes), dtype=torch.float32),
                            labels))
    return out


def ava_collate(batch: list) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor,
                                      torch.Tensor]:
    """Items -> `([slow, fast], boxes (K, 5), labels (K, C), indices (B,))`: the boxes of all the
    clips in one tensor, each row starting with its clip's index in the batch (the detector's
    input, `model(clips, boxes)`)."""
    sizes = {tuple(item[0][0].shape) for item in batch}
    if len(sizes) > 1:
        raise ValueError(f"the clips of a batch must have one size, got {sorted(sizes)}: frames "
                         f"of other aspect ratios? test with batch_size=1 or a test_crop_size")
    clips = [torch.stack([item[0][p] for item in batch]) for p in range(len(batch[0][0]))]
    boxes = torch.cat([torch.cat([torch.full((len(item[1]), 1), float(i)), item[1]], dim=1)
                       for i, item in enumerate(batch)])  # (K, 5)
    labels = torch.cat([item[2] for item in batch])  # (K, C)
    return clips, boxes, labels, torch.tensor([item[3] for item in batch])


def jitter_boxes(boxes: torch.Tensor, amount: float, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
    """Move each edge of each normalised box by up to `amount` of its width or height, at random
    (kept in the frame and at least a pixel-ish wide)."""
    size = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)  # (K, 4): w, h, w, h
    shift = (torch.rand(boxes.shape, generator=generator) * 2 - 1) * amount * size
    moved = (boxes + shift).clamp(0, 1)
    low, high = torch.minimum(moved[:, :2], moved[:, 2:]), torch.maximum(moved[:, :2], moved[:, 2:])
    return torch.cat([low, high], dim=1)


class _FrameFolder:
    """A folder of frames read like a video: `num_frames`, `fps`, `get_frames(indices)`."""

    def __init__(self, folder: Path, fps: float) -> None:
        self.files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        if not self.files:
            raise VideoDecodeError(folder, "the frame folder holds no .jpg or .png files")
        self.num_frames, self.fps = len(self.files), fps

    def get_frames(self, indices) -> torch.Tensor:
        frames = []
        for i in indices:
            path = self.files[min(max(int(i), 0), self.num_frames - 1)]
            try:
                with Image.open(path) as image:  # Pillow (matplotlib's dependency too)
                    frames.append(np.asarray(image.convert("RGB")))  # (H, W, 3)
            except (OSError, ValueError) as e:
                raise VideoDecodeError(path, f"cannot decode the frame ({e})") from None
        return torch.from_numpy(np.stack(frames))  # (T, H, W, 3)

    def __enter__(self) -> _FrameFolder:
        return self

    def __exit__(self, *args) -> None:
        pass


class AvaDataset(Dataset):
    """Clips around AVA key frames: items are `([slow, fast], boxes (K, 4), labels (K, C), index)`
    (see the module docstring); `dataset.key_frames[index]` says which key frame an item is."""

    def __init__(self, annotations: str | os.PathLike | list[AvaBox],
                 video_root: str | os.PathLike, mode: str = "train", num_classes: int = 80,
                 num_frames: int = 32, sampling_rate: int = 2, alpha: int = 4,
                 target_fps: float = 30.0, crop_size: int = 224,
                 short_side: tuple[int, int] = (256, 320), test_short_side: int = 256,
                 test_crop_size: int | None = None, flip: bool = True, box_jitter: float = 0.05,
                 proposals: str | os.PathLike | list[AvaBox] | None = None,
                 score_threshold: float = 0.8,
                 excluded: str | os.PathLike | set[tuple[str, int]] | None = None,
                 video_start: float = 0.0, frame_fps: float = 30.0, backend: str = "auto",
                 max_retries: int = 20, log_dir: str | os.PathLike | None = None,
                 cache: bool = False, progress: bool = False) -> None:
        if mode not in ("train", "test"):
            raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
        rows, source = annotations, "the annotations"
        if isinstance(annotations, (str, os.PathLike)):
            rows, source = read_annotations(annotations), str(annotations)
        if mode == "test" and proposals is not None:
            rows, source = proposals, "the proposals"
            if isinstance(proposals, (str, os.PathLike)):
                rows, source = read_proposals(proposals), str(proposals)
            rows = [r for r in rows if r.score is not None and r.score >= score_threshold]
        if isinstance(excluded, (str, os.PathLike)):
            excluded = read_excluded(excluded)
        excluded = excluded or set()
        frames = [k for k in key_frames(rows, num_classes, source)
                  if (k.video_id, k.timestamp) not in excluded]
        self.video_root = Path(video_root)
        self.paths = {v: self._find(v) for v in dict.fromkeys(k.video_id for k in frames)}
        self.missing = sorted(v for v, p in self.paths.items() if p is None)
        self.key_frames = [k for k in frames if self.paths[k.video_id] is not None]
        if not self.key_frames:
            raise FileNotFoundError(f"none of the {len(self.paths)} videos of {source} are in "
                                    f"{self.video_root} (as {{video_id}}.mp4 or a {{video_id}}/ "
                                    f"folder of frames); first: {next(iter(self.paths), '-')}")
        self.mode, self.num_classes, self.alpha = mode, num_classes, alpha
        self.num_frames, self.sampling_rate, self.target_fps = num_frames, sampling_rate, target_fps
        self.box_jitter = box_jitter if mode == "train" else 0.0
        self.video_start, self.frame_fps = video_start, frame_fps
        self.backend, self.max_retries = backend, max_retries
        if mode == "train":
            steps = [v2.RandomShortestSize(list(range(short_side[0], short_side[1] + 1))),
                     v2.RandomCrop(crop_size)] + ([v2.RandomHorizontalFlip()] if flip else [])
        else:
            steps = [v2.Resize(test_short_side)] + (
                [v2.CenterCrop(test_crop_size)] if test_crop_size else [])
        self.transform = v2.Compose([*steps, v2.ClampBoundingBoxes(),
                                     v2.ToDtype(torch.float32, scale=True),
                                     v2.Normalize(MEAN, STD)])
        # failures are appended to files, so DataLoader workers can report them too; our own
        # folder is made on the first failure and removed by pop_skipped or with the dataset
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.gettempdir()) / (
            f"slowfast_edu_skipped_{os.getpid()}_{uuid.uuid4().hex[:8]}")
        if self._own_log_dir:  # only in the process that made it (not in forked workers)
            weakref.finalize(self, _remove_log_dir, self.log_dir, os.getpid())
        self.cache: dict[str, tuple[torch.Tensor, float] | Exception] | None = None
        if cache:  # every frame of every video, decoded once (small sets: the synthetic one)
            files = [v for v, p in self.paths.items() if p is not None and p.is_file()]
            decoded = decode_whole_videos([self.paths[v] for v in files], backend, progress)
            self.cache = {v: decoded[i] for i, v in enumerate(files)}
            for v, path in self.paths.items():
                if path is not None and path.is_dir():
                    try:
                        folder = _FrameFolder(path, frame_fps)
                        self.cache[v] = folder.get_frames(range(folder.num_frames)), frame_fps
                    except VideoDecodeError as e:
                        self.cache[v] = e

    def _find(self, video_id: str) -> Path | None:
        for suffix in VIDEO_SUFFIXES:
            if (path := self.video_root / f"{video_id}{suffix}").is_file():
                return path
        folder = self.video_root / video_id
        return folder if folder.is_dir() else None

    def __len__(self) -> int:
        return len(self.key_frames)

    def clip_indices(self, timestamp: float, fps: float, num_video_frames: int) -> torch.Tensor:
        """The frames of the clip centred on the key frame at `timestamp` seconds."""
        center = round((timestamp - self.video_start) * fps)
        if not 0 <= center < num_video_frames:
            raise ValueError(f"the key frame at {timestamp} s is frame {center}, but the video "
                             f"has {num_video_frames} frames at {fps:g} fps from "
                             f"{self.video_start:g} s: is video_start right (900 for "
                             f"PySlowFast's 15-minute cuts)?")
        window = window_length(fps, self.num_frames, self.sampling_rate, self.target_fps)
        step = window / self.num_frames
        start = center - self.num_frames // 2 * step
        index = torch.tensor([math.floor(start + i * step + 1e-6) for i in range(self.num_frames)])
        return index.clamp(0, num_video_frames - 1)

    def _frames(self, key: KeyFrame) -> torch.Tensor:
        """The clip's decoded frames, (T, H, W, 3) uint8."""
        if self.cache is not None:
            cached = self.cache[key.video_id]
            if isinstance(cached, Exception):
                raise cached
            everything, fps = cached
            try:
                return everything[self.clip_indices(key.timestamp, fps, len(everything))]
            except ValueError as e:
                raise VideoDecodeError(self.paths[key.video_id], str(e)) from None
        path = self.paths[key.video_id]
        opened = (_FrameFolder(path, self.frame_fps) if path.is_dir()
                  else VideoReader(path, backend=self.backend))
        with opened as reader:
            try:
                indices = self.clip_indices(key.timestamp, reader.fps, reader.num_frames)
            except ValueError as e:
                raise VideoDecodeError(path, str(e)) from None
            return reader.get_frames(indices)

    def _item(self, index: int):
        key = self.key_frames[index]
        frames = self._frames(key)  # (T, H, W, 3)
        h, w = frames.shape[1:3]
        boxes = key.boxes if not self.box_jitter else jitter_boxes(key.boxes, self.box_jitter)
        pixels = boxes * torch.tensor([w, h, w, h], dtype=torch.float32)  # (K, 4)
        video = tv_tensors.Video(frames.permute(0, 3, 1, 2))  # (T, 3, H, W)
        video, pixels = self.transform(
            video, tv_tensors.BoundingBoxes(pixels, format="XYXY", canvas_size=(h, w)))
        clip = video.as_subclass(torch.Tensor).permute(1, 0, 2, 3).contiguous()  # (3, T, h, w)
        return (pack_pathways(clip, self.alpha), pixels.as_subclass(torch.Tensor),
                key.labels.clone(), index)

    def __getitem__(self, index: int):
        for _ in range(self.max_retries):
            try:
                return self._item(index)
            except (VideoDecodeError, OSError) as e:
                key = self.key_frames[index]
                reason = str(e).replace("\n", " ")
                self.log_dir.mkdir(parents=True, exist_ok=True)
                with open(self.log_dir / f"skipped-{os.getpid()}.tsv", "a", encoding="utf-8") as f:
                    f.write(f"{self.paths[key.video_id]}\t{key.timestamp}\t{reason}\n")
                # another key frame instead: random in training, the next one in testing
                index = (int(torch.randint(len(self), ())) if self.mode == "train"
                         else (index + 1) % len(self))
        raise RuntimeError(f"{self.max_retries} key frames in a row failed to decode; see "
                           f"{self.log_dir}")

    def pop_skipped(self) -> dict[str, str]:
        """Key frames that failed to decode since the last call: {"path at t s": reason}."""
        skipped = {}
        for log in sorted(self.log_dir.glob("skipped-*.tsv")):
            for line in log.read_text(encoding="utf-8").splitlines():
                path, timestamp, reason = line.split("\t", 2)
                skipped[f"{path} at {timestamp} s"] = reason
            log.unlink()
        if self._own_log_dir:
            _remove_log_dir(self.log_dir, os.getpid())
        return skipped

    def __repr__(self) -> str:
        boxes = sum(len(k.boxes) for k in self.key_frames)
        return (f"AvaDataset({len(self.key_frames)} key frames, {boxes} boxes, "
                f"{len(self.paths) - len(self.missing)} videos, {len(self.missing)} missing, "
                f"mode={self.mode!r})")
