"""decord backend of `VideoReader`. decord is optional: it has no wheels for macOS arm64."""

from __future__ import annotations

import functools
import os
import re

import numpy as np

from .errors import VideoDecodeError


@functools.lru_cache(maxsize=1)
def decord_available() -> bool:
    """True if decord can be imported here (tried once, then remembered)."""
    try:
        import decord  # noqa: F401  (a wheel can be installed yet fail to load its library)
    except Exception:
        return False
    return True


class DecordBackend:
    """Decode frames with decord. Use through `VideoReader`."""

    name = "decord"

    def __init__(self, path: str | os.PathLike[str], num_threads: int = 1) -> None:
        import decord  # imported here so that the package works without it

        self.path = os.fspath(path)
        try:
            self._reader = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=num_threads)
            self.num_frames = len(self._reader)
            self.fps = float(self._reader.get_avg_fps())
            # Decoding frame 0 now catches the files decord opens but cannot decode: small or
            # unaligned widths give "DECORDArrayCopyFromTo: The size must exactly match" or
            # frames of the wrong shape.
            self.first_frame = self._reader[0].asnumpy()
        except Exception as e:  # DECORDError, or whatever its C++ core throws on odd files
            raise VideoDecodeError(self.path, f"decord cannot read it ({last_line(e)})") from None
        self.size: tuple[int, int] = self.first_frame.shape[:2]

    def get_frames(self, indices: list[int]) -> np.ndarray:
        """Decode the frames at in-range `indices`; return (len, H, W, 3) uint8."""
        if not indices:
            return np.empty((0, *self.size, 3), np.uint8)
        # Callers clamp: decord can hang when asked for a frame past the end.
        return self._reader.get_batch(list(indices)).asnumpy()

    def close(self) -> None:
        """Release the decoder (decord has no explicit close; dropping the reader frees it)."""
        self._reader = None


_SOURCE_PREFIX = re.compile(r"\[[\d:]+\]\s*\S+:\d+:\s*")  # "[05:42:59] src/video/x.cc:218: "


def last_line(error: BaseException) -> str:
    # decord's messages carry a C++ stack trace; the last non-empty line says what went wrong.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return _SOURCE_PREFIX.sub("", lines[-1]).strip()
