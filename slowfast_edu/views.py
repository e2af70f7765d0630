"""The test views of a clip: read a video as a model is tested, within a bounded window.

A view is one window of `geometry.num_frames` frames every `geometry.sampling_rate` frames at 30
fps, resized so that its short side is `test_short_side` and cropped to `test_crop_size`
(`slowfast_edu.models.clip_geometry`). The default is one view, deterministic: the window at the
centre of the video, the centre crop. `views=(10, 3)` is the paper's test protocol: 10 windows
spread uniformly over the video (start = (length - window) * i / 10, as PySlowFast tests) times 3
crops along the long side (left, centre, right), 30 views whose softmax scores are averaged.

    clip = read_views("clip.mp4", geometry)            # ClipViews: one view
    model(clip.inputs)                                  # [slow, fast], each (1, 3, T_p, S, S)

`VideoReader` indexes a whole file when it opens it (one demux pass over every packet): cheap for
a clip, wasteful for a long upload. So with `max_seconds`, a video the container says is longer
is first cut to its `max_seconds` around the centre (a stream copy of the packets, from the
keyframe before, into a small Matroska file: no decoding), and the views are taken from that.
Frames larger than `MAX_PIXELS` are refused before any is decoded. The app, `predict` and
`slowfast-edu explain` all read clips here.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from .data import VideoDecodeError, VideoReader, pack_pathways, test_transform, window_length
from .data.transforms import MEAN, STD
from .models import ClipGeometry

MAX_PIXELS = 4096 * 2304  # larger frames are refused (4K DCI, 4096 x 2160, is accepted)
CROPS = {1: (1,), 3: (0, 1, 2)}  # crops per window -> UniformCrop's places (0 left, 1 centre)


@dataclass
class ClipViews:
    """The views of one video, decoded; `inputs` gives them as the model takes them."""

    frames: torch.Tensor  # (clips, T, H, W, 3) uint8: the decoded frames of each window
    indices: np.ndarray  # (clips, T) frame indices in the file read
    times: np.ndarray  # (clips, T) seconds into the video of each frame
    fps: float
    duration: float  # seconds, as far as the file tells
    size: tuple[int, int]  # (height, width) as displayed
    window: tuple[float, float] | None  # the part copied from a long video, in seconds
    geometry: ClipGeometry
    crops: int = 1
    arch: str = "slowfast"  # which pathways' inputs: "slowfast", "slow" or "fast"
    mean: tuple[float, ...] = MEAN
    std: tuple[float, ...] = STD

    @property
    def num_views(self) -> int:
        """Windows x crops."""
        return len(self.frames) * self.crops

    def batch(self, views: range | None = None) -> list[torch.Tensor]:
        """The model's inputs for `views` (all by default): per pathway (V, 3, T_p, S, S), view v
        being crop v % crops of window v // crops."""
        views = range(self.num_views) if views is None else views
        g = self.geometry
        clips = [test_transform(g.test_short_side, g.test_crop_size,
                                CROPS[self.crops][v % self.crops], self.mean, self.std)(
            self.frames[v // self.crops]) for v in views]  # each (3, T, S, S)
        slow, fast = pack_pathways(torch.stack(clips), g.alpha)  # (V, 3, T/alpha, S, S), (V, ...)
        return {"slowfast": [slow, fast], "slow": [slow], "fast": [fast]}[self.arch]

    @property
    def inputs(self) -> list[torch.Tensor]:
        """Every view's inputs: per pathway (V, 3, T_p, S, S)."""
        return self.batch()


def read_views(video: str | os.PathLike | torch.Tensor | np.ndarray, geometry: ClipGeometry,
               views: tuple[int, int] = (1, 1), max_seconds: float | None = None,
               fps: float = 30.0, arch: str = "slowfast", mean: tuple[float, ...] = MEAN,
               std: tuple[float, ...] = STD) -> ClipViews:
    """Views (windows, crops) of a video file, or of decoded frames (T, H, W, 3) uint8 at `fps`;
    raises `VideoDecodeError` naming the file and the problem."""
    clips, crops = views
    if clips < 1 or crops not in CROPS:
        raise ValueError(f"views must be (windows >= 1, crops 1 or 3), got {views}")
    common = dict(geometry=geometry, crops=crops, arch=arch, mean=tuple(mean), std=tuple(std))
    if not isinstance(video, (str, os.PathLike)):
        frames = torch.as_tensor(video)
        if frames.dim() != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError(f"decoded frames must be (T, H, W, 3) uint8, got "
                             f"{tuple(frames.shape)} {frames.dtype}")
        indices = window_indices(len(frames), fps, geometry, clips)  # (clips, T)
        return ClipViews(frames[indices], indices.numpy(), indices.numpy() / fps, fps,
                         len(frames) / fps, tuple(frames.shape[1:3]), None, **common)
    duration = probe(video)
    if max_seconds is None or duration is None or duration <= max_seconds:
        return _read(video, clips, common, offset=0.0, centre=None, duration=duration)
    with tempfile.TemporaryDirectory(prefix="slowfast_edu_window_") as folder:
        piece = Path(folder) / (Path(video).stem + "_window.mkv")
        window = (duration / 2 - max_seconds / 2, duration / 2 + max_seconds / 2)
        try:
            offset = copy_window(video, piece, *window)
        except (av.FFmpegError, ValueError, StopIteration):
            # a codec Matroska cannot hold, or packets without timestamps: read the whole file
            return _read(video, clips, common, offset=0.0, centre=None, duration=duration)
        try:
            clip = _read(piece, clips, common, offset=offset, centre=duration / 2,
                         duration=duration)
        except VideoDecodeError as e:  # name the upload, not our copy of its middle
            raise VideoDecodeError(video, e.reason) from None
    clip.window = window
    return clip


def window_indices(num_video_frames: int, fps: float, geometry: ClipGeometry, clips: int = 1,
                   centre: float | None = None) -> torch.Tensor:
    """Frame indices of each window, (clips, num_frames) int64, by linspace over the window and
    clamped to the video (a short clip repeats its last frame, as the references do). One window
    is centred on frame `centre` (default: the middle); several spread as PySlowFast's test."""
    if num_video_frames < 1:
        raise ValueError("the video has no frames")
    length = window_length(fps, geometry.num_frames, geometry.sampling_rate, geometry.target_fps)
    room = max(num_video_frames - length, 0.0)
    if clips == 1:
        middle = num_video_frames / 2 if centre is None else centre
        starts = [min(max(middle - length / 2, 0.0), room)]
    else:
        starts = [room * i / clips for i in range(clips)]
    index = torch.stack([torch.linspace(s, s + length - 1, geometry.num_frames) for s in starts])
    return index.clamp(0, num_video_frames - 1).long()


def probe(path: str | os.PathLike) -> float | None:
    """The video's length in seconds from the container's header (None when it has none);
    raises `VideoDecodeError` for anything not a video, or frames too large to take."""
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError):
        container = None
    try:
        stream = container and next((s for s in container.streams.video
                                     if not s.disposition & av.stream.Disposition.attached_pic),
                                    None)
        if stream is None or container.format.name == "image2" or \
                container.format.name.endswith("_pipe"):
            with VideoReader(path):  # the data package says what the file is instead
                pass
            raise VideoDecodeError(path, "no video stream")
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:  # refused before a frame is decoded
            raise VideoDecodeError(path, f"frames of {width}x{height} pixels are too large "
                                         f"(at most 4096x2160); scale the video down")
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return container.duration / 1e6 if container.duration else None
    finally:
        if container is not None:
            container.close()


def copy_window(path: str | os.PathLike, dest: str | os.PathLike, start: float, end: float
                ) -> float:
    """Stream-copy the video packets showing `start`..`end` s into a Matroska file `dest`
    (from the keyframe at or before `start`); return the time of its first frame in seconds."""
    with av.open(os.fspath(path), metadata_errors="ignore") as source:
        stream = next(s for s in source.streams.video
                      if not s.disposition & av.stream.Disposition.attached_pic)
        origin = stream.start_time or 0  # stream ticks at which the video starts
        source.seek(int(start * 1e6) + (source.start_time or 0), backward=True)
        first = None
        with av.open(os.fspath(dest), "w", format="matroska") as out:
            copy = out.add_stream_from_template(stream)
            for packet in source.demux(stream):
                if packet.dts is None or packet.pts is None or packet.size == 0:
                    continue  # the demuxer's end-of-stream packet, or one without a time
                if first is None:
                    first = packet.pts  # the keyframe the seek landed on
                if packet.pts < first:
                    continue  # a frame shown before the keyframe: it needs the frames before
                if (packet.dts - origin) * stream.time_base > end:
                    break
                packet.stream = copy
                out.mux(packet)
    if first is None:
        raise VideoDecodeError(path, f"no video data between {start:.1f} s and {end:.1f} s, "
                                     f"though the header says there is (truncated?)")
    return float((first - origin) * stream.time_base)


def _read(path: str | os.PathLike, clips: int, common: dict, offset: float,
          centre: float | None, duration: float | None) -> ClipViews:
    """Decode the windows from `path`, whose first frame is at `offset` s in the video;
    `centre` in seconds of the video (None: the middle of `path`)."""
    with VideoReader(path) as reader:
        height, width = reader.size
        middle = None if centre is None else (centre - offset) * reader.fps
        indices = window_indices(reader.num_frames, reader.fps, common["geometry"], clips,
                                 middle)  # (clips, T)
        frames = reader.get_frames(indices.flatten())  # (clips * T, H, W, 3) uint8
        fps, num_frames = reader.fps, reader.num_frames
    frames = frames.reshape(*indices.shape, *frames.shape[1:])  # (clips, T, H, W, 3)
    return ClipViews(frames, indices.numpy(), offset + indices.numpy() / fps, float(fps),
                     duration if duration is not None else num_frames / fps, (height, width),
                     None, **common)
