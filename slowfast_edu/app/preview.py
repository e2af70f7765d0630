"""A preview of an upload that a browser can play: H.264 in MP4, small, short.

Browsers play H.264 MP4 and VP8/VP9/AV1 WebM; an AVI, an MKV, an animated GIF or an MPEG file
shows "Video not playable" (or `NaN:NaN`), although the reader decodes it. So such an upload is
shown through a preview: the `MAX_SECONDS` around its centre (the part the model reads), at most
`MAX_FPS` frames a second and `MAX_SIDE` pixels on its long side, re-encoded with libx264 through
PyAV. The model still reads the upload itself, never the preview.
"""

from __future__ import annotations

import fractions
import os
import tempfile
import uuid
from pathlib import Path

import av
import numpy as np
import torch
from torch.nn import functional as F

from ..data import VideoDecodeError, VideoReader
from ..views import copy_window, probe
from .analysis import MAX_SECONDS

MAX_SIDE = 480  # pixels on the long side of a preview
MAX_FPS = 30.0
CHUNK = 16  # frames decoded and resized at a time: a 4K upload never sits in memory whole
PLAYABLE = {"mov,mp4,m4a,3gp,3g2,mj2": {"h264"}, "matroska,webm": {"vp8", "vp9", "av1"}}
BROWSER_PIXELS = {"yuv420p", "yuvj420p"}  # Chrome and Safari refuse 4:2:2 / 4:4:4 H.264
PREFIX = "preview_"  # preview files are named preview_<id>.mp4


def browser_plays(path: str | os.PathLike) -> bool:
    """True for an H.264 MP4/MOV in 4:2:0 and a VP8/VP9/AV1 WebM: what every browser plays."""
    try:
        with av.open(os.fspath(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            codec, pixels = stream.codec_context.name, stream.codec_context.format
            fmt = container.format.name
    except (av.FFmpegError, IndexError, OSError):
        return False
    if fmt == "matroska,webm" and Path(path).suffix.lower() != ".webm":
        return False  # an .mkv: Chrome may play it, Safari and Firefox do not
    return (codec in PLAYABLE.get(fmt, ()) and
            (codec != "h264" or (pixels is not None and pixels.name in BROWSER_PIXELS)))


def make_preview(path: str | os.PathLike, out_dir: str | os.PathLike,
                 max_seconds: float = MAX_SECONDS, max_side: int = MAX_SIDE) -> Path:
    """Write the browser-playable preview of `path` to `out_dir`; `VideoDecodeError` when the
    upload cannot be read (the message names it)."""
    duration = probe(path)  # a VideoDecodeError for anything not a video, or frames too large
    out = Path(out_dir) / f"{PREFIX}{uuid.uuid4().hex[:12]}.mp4"
    if duration is None or duration <= max_seconds:
        return _encode(path, out, None, max_seconds, max_side)
    with tempfile.TemporaryDirectory(prefix="slowfast_edu_preview_") as folder:
        piece = Path(folder) / "window.mkv"
        start = duration / 2 - max_seconds / 2
        try:
            offset = copy_window(path, piece, start, start + max_seconds)
        except (av.FFmpegError, ValueError, StopIteration):  # not copyable: read the file
            return _encode(path, out, duration / 2, max_seconds, max_side)
        try:
            return _encode(piece, out, duration / 2 - offset, max_seconds, max_side)
        except VideoDecodeError as e:  # name the upload, not our copy of its middle
            raise VideoDecodeError(path, e.reason) from None


def _encode(path: str | os.PathLike, out: Path, centre: float | None, max_seconds: float,
            max_side: int) -> Path:
    """Encode the `max_seconds` of `path` around `centre` seconds (None: its middle) as H.264."""
    with VideoReader(path) as reader:
        fps = reader.fps
        every = max(1, round(fps / MAX_FPS))  # at most MAX_FPS frames a second
        window = min(reader.num_frames, int(round(max_seconds * fps)))
        middle = reader.num_frames / 2 if centre is None else centre * fps
        first = int(min(max(middle - window / 2, 0), reader.num_frames - window))
        indices = list(range(first, first + window, every))
        height, width = reader.size
        scale = min(1.0, max_side / max(height, width))
        size = (max(2, int(height * scale) // 2 * 2), max(2, int(width * scale) // 2 * 2))
        rate = fractions.Fraction(fps / every).limit_denominator(1000)
        try:
            with av.open(os.fspath(out), "w", options={"movflags": "+faststart"}) as container:
                stream = container.add_stream("libx264", rate=rate,
                                              options={"crf": "26", "preset": "veryfast"})
                stream.height, stream.width, stream.pix_fmt = *size, "yuv420p"
                for start in range(0, len(indices), CHUNK):
                    frames = reader.get_frames(indices[start: start + CHUNK])  # (t, H, W, 3)
                    for frame in _resize(frames, size):
                        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
                        container.mux(stream.encode(picture))
                container.mux(stream.encode())  # flush the frames the encoder holds back
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    return out


def _resize(frames: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """(t, H, W, 3) uint8 -> (t, h, w, 3) uint8, antialiased."""
    if tuple(frames.shape[1:3]) == size:
        return frames.numpy()
    x = frames.permute(0, 3, 1, 2).float()  # (t, 3, H, W)
    x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
