"""`VideoDecodeError` and the file sniffing that turns FFmpeg's terse errors into useful messages.

FFmpeg answers "Invalid data found when processing input" for an empty file, a text file, a
cut-short download and random bytes alike. Looking at the first bytes ourselves lets the message say
what the file actually is ("looks like a PNG image", "an HTML page") and what to do about it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

# Magic numbers of common non-video files that end up with a video extension (a thumbnail saved as
# .mp4, an error page saved by a downloader, ...).
_NOT_VIDEO_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
)
# Magic numbers of video containers: when FFmpeg cannot open one of these, the file is damaged.
_CONTAINER_MAGIC = (
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (b"OggS", "Ogg"),
    (b"FLV", "FLV"),
    (b"\x00\x00\x01\xba", "MPEG program stream"),
)
_HEAD_BYTES = 512


class VideoDecodeError(RuntimeError):
    """A video file cannot be decoded; the message names the file and says what is wrong."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        # The base name keeps messages short and readable; the full path is in `.path`.
        super().__init__(f"cannot decode {os.path.basename(self.path)!r}: {reason}")

    def __reduce__(self):  # custom __init__ args: needed to cross DataLoader worker processes
        return (type(self), (self.path, self.reason))


def read_head(path: str | os.PathLike[str], n: int = _HEAD_BYTES) -> bytes:
    """Return the first `n` bytes of a file, or raise `VideoDecodeError` if it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise VideoDecodeError(path, "file not found")
    if p.is_dir():
        raise VideoDecodeError(path, "is a directory, not a video file")
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(n)
    except PermissionError:
        raise VideoDecodeError(path, "cannot read the file (permission denied)") from None
    except OSError as e:
        raise VideoDecodeError(path, f"cannot read the file ({e.strerror})") from None
    if size == 0:
        raise VideoDecodeError(path, "the file is empty (0 bytes); re-download or re-encode it")
    return head


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # a multi-byte character cut at the end of `head` is fine
            return False
        text = head[: e.start].decode("utf-8")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return printable >= 0.95 * max(1, len(text))


def describe_non_video(head: bytes) -> str | None:
    """Say what the bytes look like when they are clearly not a video ("a PNG image"), else None."""
    for magic, kind in _NOT_VIDEO_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if _looks_like_text(head):
        if b"<html" in head.lower() or b"<!doctype html" in head.lower():
            return "an HTML page, e.g. a failed download"
        return "a text file"
    return None


def describe_container(head: bytes) -> str | None:
    """Name the video container the bytes belong to ("MP4/MOV", "AVI", ...), or None if unknown."""
    if head[4:8] == b"ftyp":
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "MPEG transport stream"
    for magic, kind in _CONTAINER_MAGIC:
        if head.startswith(magic):
            return kind
    return None


def mp4_missing_moov(path: str | os.PathLike[str]) -> bool:
    """True if an MP4's top-level boxes end without a 'moov' box (the index is written last)."""
    # Walking the box headers reads a few bytes per box, never the media data.
    size = os.path.getsize(path)
    pos = 0
    with open(path, "rb") as f:
        while pos + 8 <= size:
            f.seek(pos)
            box_size, box_type = struct.unpack(">I4s", f.read(8))
            if box_type == b"moov":
                return False
            if box_size == 1:  # 64-bit size follows the type
                box_size = struct.unpack(">Q", f.read(8))[0]
            elif box_size == 0:  # box extends to the end of the file
                break
            if box_size < 8:
                break
            pos += box_size
    return True


def explain_open_failure(
    path: str | os.PathLike[str], head: bytes, ffmpeg_message: str
) -> VideoDecodeError:
    """Build the error for a file that FFmpeg could not open at all."""
    kind = describe_non_video(head)
    if kind is not None:
        return VideoDecodeError(path, f"not a video file (looks like {kind})")
    container = describe_container(head)
    if container == "MP4/MOV" and mp4_missing_moov(path):
        return VideoDecodeError(
            path,
            "truncated or corrupt (MP4 without its 'moov' index box: the download or the "
            "encoder was probably cut short; re-download or re-encode it)",
        )
    if container is not None:
        return VideoDecodeError(
            path, f"truncated or corrupt {container} file (FFmpeg: {ffmpeg_message})"
        )
    return VideoDecodeError(
        path, f"not a video file, or a format FFmpeg does not know (FFmpeg: {ffmpeg_message})"
    )
