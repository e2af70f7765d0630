"""Read frames from video files: `VideoReader`, with decord where it helps and PyAV everywhere.

Conventions, the same for both backends:

- Frame `i` is the i-th frame the decoder outputs: presentation order for ordinary files, and the
  decoded frame number for variable-frame-rate files, where `fps` is the stream's *average* rate, so
  `i / fps` is only approximately the time of frame `i`.
- `num_frames` is the number of video packets in the file, counted once at open by demuxing
  (reading, not decoding) the stream, as decord does. Container metadata is not trusted: MKV/WebM
  store no frame count; AVI/Xvid files with placeholder packets or bogus timestamps misreport it.
- `duration` is `num_frames / fps` seconds, i.e. the length of the indexable frames.
- Indices are clamped to `[0, num_frames - 1]`: asking past the end repeats the last frame (a clip
  shorter than a sampling window is the sampler's business; the reader just never fails or hangs).
  If a container declares a frame or two that never decode, those indices repeat the last decodable
  frame too; if many frames are missing (a cut-short file), `get_frames` raises `VideoDecodeError`.
- Frames are `(T, H, W, 3)` uint8 RGB tensors at the stored resolution (the sample aspect ratio is
  ignored, as decord does), rotated and mirrored as players display them (the display matrix);
  `size` is the displayed `(height, width)`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from types import TracebackType

import numpy as np
import torch

from ._decord import DecordBackend, decord_available, last_line
from .errors import VideoDecodeError

__all__ = ["VideoReader", "VideoDecodeError", "available_backends"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "decord", "pyav")
# Where decord's seek-then-count is frame-accurate, checked by random access against a sequential
# decode: MP4/MOV, MKV/WebM, AVI and FLV files; with B-frames, only H.264 outside AVI. decord
# returned wrong frames (a few to a GOP off) for MPEG-TS/PS files, HEVC with open GOPs, MPEG-4
# Part 2 with B-frames, AVI with B-frames (Xvid "packed bitstream", H.264); it has no AV1 decoder.
_DECORD_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "flv"})
_DECORD_CANNOT_DECODE = frozenset({"av1", "libdav1d", "libaom-av1"})
# decord and PyAV run the same FFmpeg decoders and the same swscale YUV->RGB path, so their pixels
# are bit-identical on every file we tested. The check at open allows 2 levels of slack so that a
# different swscale build does not disable decord, while still catching wrong frames (those differ
# by tens of levels).
_PIXEL_TOLERANCE = 2


def available_backends() -> list[str]:
    """Names of the decoding backends that can be imported here ("decord" is optional)."""
    names = ["decord"] if decord_available() else []
    if importlib.util.find_spec("av") is not None:
        names.append("pyav")
    return names


def _pyav_backend(path: str, num_threads: int):
    # Imported late so that `slowfast_edu.data` imports even where PyAV is missing.
    from ._pyav import PyAVBackend

    return PyAVBackend(path, num_threads)


def _why_not_decord(pyav) -> str | None:
    """Reason why decord would get this file wrong, judging from what PyAV learned at open."""
    if not decord_available():
        return "decord is not installed"
    if pyav.codec in _DECORD_CANNOT_DECODE:
        return f"decord cannot decode {pyav.codec}"
    if pyav.container_format not in _DECORD_CONTAINERS:
        return f"decord's seeking is not frame-accurate in {pyav.container_format} files"
    if pyav.has_b_frames and (pyav.codec != "h264" or pyav.container_format == "avi"):
        return (
            f"{pyav.codec} with B-frames in {pyav.container_format}: "
            "decord's seeking is not frame-accurate"
        )
    if pyav.reoriented:
        return "rotation/flip metadata (decord ignores 180 degrees and mirroring)"
    if pyav.coded_size[0] % 2 or pyav.coded_size[1] % 2:
        return "odd frame size (decord's colour conversion differs at the edges)"
    return None


def _disagreement(pyav, dec: DecordBackend) -> str | None:
    """Why decord's view of the file cannot be trusted, or None when it matches PyAV's."""
    if dec.num_frames != pyav.num_frames:
        return f"decord counts {dec.num_frames} frames, the file has {pyav.num_frames}"
    if abs(dec.fps - pyav.fps) > 1e-6 * pyav.fps:
        return f"decord reports {dec.fps} fps, the stream {pyav.fps}"
    if dec.first_frame.shape != pyav.first_frame.shape:
        return (
            f"decord frames are {dec.first_frame.shape}, displayed frames {pyav.first_frame.shape}"
        )
    diff = np.abs(dec.first_frame.astype(np.int16) - pyav.first_frame.astype(np.int16)).max()
    if diff > _PIXEL_TOLERANCE:
        return f"decord's first frame differs from PyAV's by up to {diff} levels"
    return None


class VideoReader:
    """Random access to the frames of one video file (see the module docstring for conventions).

    `backend="auto"` opens the file with PyAV (which also explains broken files), then hands
    decoding to decord when decord is installed, the file is of a kind where decord's seeking is
    known to be frame-accurate, and decord agrees with PyAV on it (frame count, fps, size, first
    frame's pixels); otherwise, or if decord fails later, PyAV decodes (`why_not_decord` says why).
    `"decord"` and `"pyav"` force one backend (with `"decord"`, frame count and fps are decord's
    own). `num_threads=1` keeps one decode thread, right for DataLoader workers; 0 lets FFmpeg
    choose.
    """

    def __init__(
        self, path: str | os.PathLike[str], backend: str = "auto", num_threads: int = 1
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self._path = os.fspath(path)
        self._fallback = None  # in auto mode with decord: the (closed) PyAV backend to fall back on
        self.why_not_decord: str | None = None  # auto mode: why PyAV was chosen, for the curious
        if backend == "pyav":
            self._impl = _pyav_backend(self._path, num_threads)
        elif backend == "decord":
            if not decord_available():
                raise ImportError(
                    "backend='decord' was requested but decord is not installed (it has no "
                    "wheels for macOS arm64); use backend='pyav' or backend='auto'"
                )
            # PyAV's open-time checks explain broken files (empty, PNG, audio-only...) far better
            # than decord, which may also crash or hang on them.
            from ._pyav import open_video

            open_video(self._path)[0].close()
            self._impl = DecordBackend(self._path, num_threads)
        else:
            self._impl = self._open_auto(num_threads)
        self._closed = False

    def _open_auto(self, num_threads: int):
        pyav = _pyav_backend(self._path, num_threads)
        reason = _why_not_decord(pyav)
        if reason is None:
            try:
                dec = DecordBackend(self._path, num_threads)
            except VideoDecodeError as e:
                reason = e.reason
            else:
                reason = _disagreement(pyav, dec)
        if reason is not None:
            log.debug("%s: decoding with PyAV: %s", self._path, reason)
            self.why_not_decord = reason
            return pyav
        pyav.close()  # keeps its index: it reopens the file only if decord fails later
        self._fallback = pyav
        return dec

    @property
    def path(self) -> str:
        """The file being read."""
        return self._path

    @property
    def backend(self) -> str:
        """The backend actually decoding: "decord" or "pyav"."""
        return self._impl.name

    @property
    def num_frames(self) -> int:
        """Number of frames (video packets in the file)."""
        return self._impl.num_frames

    @property
    def fps(self) -> float:
        """Average frame rate of the video stream."""
        return self._impl.fps

    @property
    def duration(self) -> float:
        """`num_frames / fps`, in seconds."""
        return self.num_frames / self.fps

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the frames as displayed, i.e. after rotation."""
        return tuple(self._impl.size)

    def get_frames(self, indices: Sequence[int] | np.ndarray | torch.Tensor | int) -> torch.Tensor:
        """Frames at `indices` (clamped; any order; repeats allowed) as (T, H, W, 3) uint8 RGB."""
        if self._closed:
            raise ValueError(f"VideoReader for {os.path.basename(self._path)!r} is closed")
        idx = _as_indices(indices)
        if idx.size == 0:
            return torch.empty((0, *self.size, 3), dtype=torch.uint8)
        idx = np.clip(idx, 0, self.num_frames - 1)  # past the end: decord can hang, so never ask it
        # Each distinct frame is decoded once, in file order; the result follows the request order.
        unique, inverse = np.unique(idx, return_inverse=True)
        frames = self._decode(unique.tolist())
        return torch.from_numpy(frames[inverse])  # fancy indexing copies: contiguous, writable

    def _decode(self, indices: list[int]) -> np.ndarray:
        try:
            return self._impl.get_frames(indices)
        except Exception as e:
            if self._fallback is None:
                if isinstance(e, VideoDecodeError):
                    raise
                raise VideoDecodeError(self._path, f"{self.backend} failed: {last_line(e)}") from e
            log.warning("%s: decord failed (%s); falling back to PyAV", self._path, last_line(e))
            self._impl.close()
            self._impl, self._fallback = self._fallback, None
            self.why_not_decord = f"decord failed while decoding: {last_line(e)}"
            return self._decode(indices)  # PyAV now: its failures are explained the same way

    def close(self) -> None:
        """Release the file; the reader cannot be used afterwards."""
        self._impl.close()
        if self._fallback is not None:
            self._fallback.close()
        self._closed = True

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        return (
            f"VideoReader({self._path!r}, backend={self.backend!r}, num_frames={self.num_frames}, "
            f"fps={self.fps:.3f}, size={self.size})"
        )


def _as_indices(indices: Sequence[int] | np.ndarray | torch.Tensor | int) -> np.ndarray:
    """Flatten `indices` to an int64 array, refusing floats and booleans (a likely mistake)."""
    if isinstance(indices, torch.Tensor):
        indices = indices.detach().cpu().numpy()
    arr = np.asarray(indices)
    if arr.size and (arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"frame indices must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64).reshape(-1)
