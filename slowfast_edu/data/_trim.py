"""Cut a video to its annotated window and resize it to a short side with PyAV: Kinetics' recipe.

`trim_resize(src, dst, start, end)` writes an H.264 (yuv420p, CRF 23) mp4 without audio holding the
frames whose timestamps fall in `[start, end)` seconds, at the source's average frame rate (the
output is constant-frame-rate: frame i is at i / fps), with the short side resized to 256 (bicubic,
as FFmpeg's scale filter; the long side keeps the aspect ratio, rounded to an even number, which
yuv420p needs). Like the reference preprocessing it resizes whatever the source size, so a 240p
video is scaled *up* to 256: later steps can count on the short side. Rotation metadata is applied,
so the output shows what players show (as `VideoReader` does).

Which part of the file is the window:
- `trimmed=True` (a file already cut to the window, e.g. named `{id}_{start:06d}_{end:06d}.mp4`):
  the whole file.
- otherwise the window, cut short where the file ends. A window that starts after the
  end of a file whose length is about `end - start` means the file is already cut (a trimmed clip
  saved under its bare id): the whole file again. Any other window past the end is an error.

The output is written to `dst` + ".part" and renamed when complete, so an interrupted run never
leaves a half-written video under the final name.
"""

from __future__ import annotations

import fractions
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from ._pyav import display_transform, open_video
from .errors import VideoDecodeError

CRF = 23  # x264's default quality: Kinetics-sized clips of ~0.5-1 MB per 10 s at 340x256
PRESET = "veryfast"  # about 2x faster than "medium" for a few % more bytes at the same CRF
_BICUBIC = av.video.reformatter.Interpolation.BICUBIC


def output_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(height, width) with the short side `short_side`, the aspect ratio kept, both even."""
    if short_side <= 0:  # keep the source size (made even)
        return max(2, height // 2 * 2), max(2, width // 2 * 2)
    scale = short_side / min(height, width)
    return max(2, round(height * scale / 2) * 2), max(2, round(width * scale / 2) * 2)


def _duration(container: av.container.InputContainer, stream) -> float | None:
    if container.duration:
        return container.duration / 1e6
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _window(path: Path, duration: float | None, start: float, end: float,
            trimmed: bool) -> tuple[float, float]:
    """The part of the file to keep, in seconds from its start (see the module docstring)."""
    if trimmed or duration is None:
        return (0.0, float("inf")) if trimmed else (start, end)
    if start < duration:  # a window running past the end keeps every frame to the end
        return start, end if end < duration else float("inf")
    if abs(duration - (end - start)) <= max(1.0, 0.1 * (end - start)):
        return 0.0, float("inf")  # already cut to the window
    raise VideoDecodeError(path, f"the annotated window {start:g}-{end:g} s starts after the end "
                                 f"of the video ({duration:.1f} s)")


def _decode_from(container, stream, seek_to: float, t0: float, fps: float
                 ) -> Iterator[tuple[float, av.VideoFrame]]:
    """Yield (seconds from the file's start, frame), starting at the keyframe before `seek_to`."""
    if seek_to > 0:
        container.seek(int((t0 + seek_to) / stream.time_base), stream=stream)
    t = None
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError:  # one damaged packet: skip it, as VideoReader does
            continue
        for frame in frames:
            # frames without a timestamp (some AVI files) follow the previous one at 1 / fps
            t = frame.time - t0 if frame.time is not None else (0.0 if t is None else t + 1 / fps)
            yield t, frame


def _frames_in(container, stream, start: float, end: float, fps: float
               ) -> Iterator[av.VideoFrame]:
    """The frames whose time is in [start, end), half a frame of slack for rounded timestamps."""
    t0 = (container.start_time or 0) / 1e6  # as FFmpeg's -ss, times count from the file's start
    half = 0.5 / fps
    frames = _decode_from(container, stream, start, t0, fps)
    first = next(frames, None)
    if start > 0 and (first is None or first[0] > start + half):
        # the seek overshot (a bad index or timestamps): decode from the beginning instead
        frames = _decode_from(container, stream, 0.0, t0, fps)
        first = next(frames, None)
    if first is None:
        return
    for t, frame in itertools.chain([first], frames):
        if t >= end - half:
            return
        if t >= start - half:
            yield frame


def trim_resize(src: str | os.PathLike, dst: str | os.PathLike, start: float, end: float,
                short_side: int = 256, trimmed: bool = False, crf: int = CRF,
                threads: int = 0) -> int:
    """Write the window [start, end) s of `src` to `dst` (see the module docstring); return the
    number of frames written. Raises `VideoDecodeError` when `src` cannot be read."""
    src, dst = Path(src), Path(dst)
    part = dst.with_name(dst.name + ".part")
    container, stream = open_video(src)  # explains broken files (empty, HTML page, truncated...)
    try:
        stream.codec_context.thread_count = threads
        if threads != 1:
            stream.codec_context.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or fractions.Fraction(30)
        rate = fractions.Fraction(rate).limit_denominator(1001)
        start, end = _window(src, _duration(container, stream), start, end, trimmed)
        dst.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            for frame in _frames_in(container, stream, start, end, float(rate)):
                if count == 0:
                    encoder, transform, size = _start_encoder(out, frame, rate, short_side, crf,
                                                              threads)
                frame = _resized(frame, transform, size)
                frame.pts, frame.time_base = count, 1 / rate
                out.mux(encoder.encode(frame))
                count += 1
            if count:
                out.mux(encoder.encode())
        if count == 0:
            raise VideoDecodeError(src, f"no frames decode in the window {start:g}-{end:g} s")
        os.replace(part, dst)
        return count
    finally:
        container.close()
        part.unlink(missing_ok=True)


def _start_encoder(out, first: av.VideoFrame, rate: fractions.Fraction, short_side: int,
                   crf: int, threads: int):
    """Add the H.264 stream, sized from the first frame as displayed (rotation applied)."""
    side = first.side_data.get("DISPLAYMATRIX")
    transform = display_transform(np.frombuffer(bytes(side), np.int32) if side else None)
    if transform is display_transform(None):  # no rotation or mirroring: stay in YUV
        transform = None
        height, width = first.height, first.width
    else:
        height, width = transform(np.empty((first.height, first.width, 0))).shape[:2]
    size = output_size(height, width, short_side)
    encoder = out.add_stream("libx264", rate=rate, options={"crf": str(crf), "preset": PRESET})
    encoder.height, encoder.width = size
    encoder.pix_fmt = "yuv420p"
    encoder.codec_context.thread_count = threads
    return encoder, transform, size


def _resized(frame: av.VideoFrame, transform, size: tuple[int, int]) -> av.VideoFrame:
    if transform is not None:  # rotate or mirror the pixels, as players do
        rgb = np.ascontiguousarray(transform(frame.to_ndarray(format="rgb24")))
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return frame.reformat(size[1], size[0], "yuv420p", interpolation=_BICUBIC)
