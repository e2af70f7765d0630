"""Read an upload as the model is tested, over a bounded window around the video's centre.

`VideoReader` indexes a whole file when it opens it (one demux pass over every packet), which is
cheap for a clip and wasteful for a long upload. So when the container says the video is longer
than `max_seconds`, the app first copies the packets of the `max_seconds` around its centre
(without decoding: a stream copy, from the keyframe before the window) into a small Matroska file,
and reads that. The model's view, `num_frames` frames every `sampling_rate` frames at 30 fps, then
sits at the centre of the video, exactly where `slowfast-edu explain` puts it
(`sample_indices(..., clip_index=1, num_clips=2)`). Frames larger than `MAX_PIXELS` are refused
before any is decoded.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from ..data import VideoDecodeError, VideoReader
from ..data._pyav import open_video
from ..data.sampling import window_length
from ..explain.cli import clip_inputs
from ..models import SlowFastConfig

MAX_SECONDS = 10.0  # the most of a video the app reads, around its centre
MAX_PIXELS = 4096 * 2304  # larger frames are refused (4K DCI, 4096 x 2160, is accepted)


@dataclass
class Clip:
    """The model's inputs for one upload, with where its frames came from."""

    inputs: list[torch.Tensor]  # per pathway (1, 3, T_p, crop, crop), normalised
    times: np.ndarray  # (T,) seconds into the video of each Fast (finest) frame
    fps: float
    duration: float  # seconds, as far as the file tells
    size: tuple[int, int]  # (height, width) as displayed
    window: tuple[float, float] | None  # the part copied from a long video, in seconds


def probe(path: str | os.PathLike) -> float | None:
    """The video's length in seconds from the container's header (None when it has none);
    raises `VideoDecodeError` for anything not a video, or frames too large to take."""
    container, stream = open_video(path)  # a clear VideoDecodeError for anything not a video
    try:
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:  # refused before a frame is decoded
            raise VideoDecodeError(path, f"frames of {width}x{height} pixels are too large for "
                                         f"the demo (at most 4096x2160); scale the video down")
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return container.duration / 1e6 if container.duration else None
    finally:
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


def centred_indices(num_video_frames: int, fps: float, centre: float, view: dict
                    ) -> torch.Tensor:
    """`num_frames` source frame indices of the view centred on frame `centre` (linspace over the
    window, clamped to the video as `sample_indices` does): (num_frames,) int64."""
    window = window_length(fps, view["num_frames"], view["sampling_rate"], view["target_fps"])
    start = min(max(centre - window / 2, 0.0), max(num_video_frames - window, 0.0))
    index = torch.linspace(start, start + window - 1, view["num_frames"])
    return index.clamp(0, num_video_frames - 1).long()


def read_centre(path: str | os.PathLike, cfg: SlowFastConfig, view: dict,
                max_seconds: float = MAX_SECONDS) -> Clip:
    """The model's inputs for the view at the centre of the video, reading at most
    `max_seconds` of it (see the module docstring); raises `VideoDecodeError` with the reason."""
    duration = probe(path)
    if duration is None or duration <= max_seconds:
        return _read(path, cfg, view, offset=0.0, centre=None, duration=duration)
    with tempfile.TemporaryDirectory(prefix="slowfast_edu_window_") as folder:
        piece = Path(folder) / (Path(path).stem + "_window.mkv")
        window = (duration / 2 - max_seconds / 2, duration / 2 + max_seconds / 2)
        try:
            offset = copy_window(path, piece, *window)
        except (av.FFmpegError, ValueError, StopIteration):
            # a codec Matroska cannot hold, or packets without timestamps: read the whole file
            return _read(path, cfg, view, offset=0.0, centre=None, duration=duration)
        try:
            clip = _read(piece, cfg, view, offset=offset, centre=duration / 2,
                         duration=duration)
        except VideoDecodeError as e:  # name the upload, not our copy of its middle
            raise VideoDecodeError(path, e.reason) from None
    clip.window = window
    return clip


def _read(path: str | os.PathLike, cfg: SlowFastConfig, view: dict, offset: float,
          centre: float | None, duration: float | None) -> Clip:
    """Decode the view's frames from `path`, whose first frame is at `offset` s in the video;
    `centre` in seconds of the video (None: the middle of `path`)."""
    with VideoReader(path) as reader:
        height, width = reader.size
        middle = reader.num_frames / 2 if centre is None else (centre - offset) * reader.fps
        indices = centred_indices(reader.num_frames, reader.fps, middle, view)
        frames = reader.get_frames(indices)  # (T, H, W, 3) uint8
        fps, num_frames = reader.fps, reader.num_frames
    times = offset + indices.numpy() / fps  # (T,) seconds into the video
    return Clip(clip_inputs(frames, cfg, view), times, fps,
                duration if duration is not None else num_frames / fps, (height, width), None)
