"""PyAV backend of `VideoReader`: a packet index, keyframe seeking and the display transform.

Frame `i` is the i-th frame the decoder outputs (presentation order for ordinary files), which is
what decord does too. At open we demux (read, not decode) the video packets once, like decord, to
learn how many frames there are and which ordinal each keyframe has; a read then seeks to the last
keyframe at or before the first wanted frame and decodes forward only up to the last wanted one.
"""

from __future__ import annotations

import bisect
import math
import os
import warnings
from collections.abc import Callable, Iterator

import av
import numpy as np

from .errors import VideoDecodeError, describe_non_video, explain_open_failure, read_head

Transform = Callable[[np.ndarray], np.ndarray]


def _identity(img: np.ndarray) -> np.ndarray:
    return img


def open_video(
    path: str | os.PathLike[str],
) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """Open `path`; return (container, video stream), or raise a `VideoDecodeError` saying why."""
    head = read_head(path)  # file missing or empty -> clear error before FFmpeg's generic one
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        raise explain_open_failure(path, head, e.strerror or str(e)) from None
    try:
        fmt = container.format.name
        if fmt == "image2" or fmt.endswith(
            "_pipe"
        ):  # FFmpeg happily opens a PNG as a 1-frame video
            raise VideoDecodeError(
                path, f"not a video file (looks like {describe_non_video(head) or 'an image'})"
            )
        # Cover art in audio files is a "video" stream with the attached_pic disposition.
        videos = [
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not videos:
            if container.streams.audio:
                raise VideoDecodeError(path, "no video stream (is it an audio file?)")
            kind = describe_non_video(head)
            raise VideoDecodeError(
                path, "no video stream" + (f" (looks like {kind})" if kind else "")
            )
        return container, videos[0]
    except BaseException:
        container.close()
        raise


def display_transform(matrix: np.ndarray | None) -> Transform:
    """Return the function that turns a decoded (H, W, 3) frame into the frame players show."""
    # Same decisions as the ffmpeg command line and ffplay ("autorotate" in fftools), so we return
    # what ffplay/VLC display. PyAV's `frame.rotation` alone would miss the mirrored matrices.
    if matrix is None:
        return _identity
    m = matrix.astype(np.float64) / 65536.0  # entries 0, 1, 3, 4 are 16.16 fixed point
    scale0, scale1 = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
    if scale0 == 0 or scale1 == 0:
        return _identity
    ccw = -math.degrees(math.atan2(m[1] / scale1, m[0] / scale0))  # av_display_rotation_get()
    theta = -round(ccw)  # clockwise degrees in [0, 360), as fftools' get_rotation()
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
    flip_h, flip_v = matrix[0] < 0, matrix[4] < 0
    if abs(theta - 90) < 1:
        if matrix[3] > 0:  # "cclock_flip": a plain transpose
            return lambda img: img.transpose(1, 0, 2)
        return lambda img: np.rot90(img, k=-1)  # "clock"
    if abs(theta - 270) < 1:
        if matrix[3] < 0:  # "clock_flip": the anti-transpose
            return lambda img: img[::-1, ::-1].transpose(1, 0, 2)
        return lambda img: np.rot90(img, k=1)  # "cclock"
    if abs(theta - 180) < 1:
        return lambda img: img[:: -1 if flip_v else 1, :: -1 if flip_h else 1]
    if abs(theta) > 1:
        warnings.warn(
            f"display rotation of {theta:.0f} degrees is not a multiple of 90; ignoring it",
            stacklevel=3,
        )
        return _identity
    return (lambda img: img[::-1]) if flip_v else _identity


class PyAVBackend:
    """Decode frames with PyAV (FFmpeg). Use through `VideoReader`."""

    name = "pyav"

    def __init__(self, path: str | os.PathLike[str], num_threads: int = 1) -> None:
        self.path = os.fspath(path)
        self.num_threads = num_threads
        self.frames_decoded = 0  # every frame the decoder produced: lets tests check we read little
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[tuple[int, av.VideoFrame]] | None = None
        self._next = 0  # ordinal of the frame `self._frames` yields next
        self._decodable: int | None = None  # how many frames really decode, once we met the end
        container, stream = open_video(self.path)
        try:
            self._index(container, stream)
        finally:
            container.close()
        try:
            self._open_at_start()
            first = next(self._frames, None)
            if first is None:
                raise VideoDecodeError(
                    self.path, f"truncated or corrupt (decoded 0 of {self.num_frames} frames)"
                )
        except BaseException:
            self.close()
            raise
        self._next = 1
        # The display matrix reaches us on decoded frames (PyAV cannot read stream side data).
        side = first[1].side_data.get("DISPLAYMATRIX")
        self.transform = display_transform(
            np.frombuffer(bytes(side), np.int32) if side is not None else None
        )
        self.reoriented = (
            self.transform is not _identity
        )  # True when rotation/flip metadata applies
        self.coded_size = (first[1].height, first[1].width)
        self.first_frame = self._to_rgb(first[1])
        self.size: tuple[int, int] = self.first_frame.shape[:2]  # as displayed, i.e. after rotation

    def _index(
        self, container: av.container.InputContainer, stream: av.video.stream.VideoStream
    ) -> None:
        """Read all video packets once: frame count, keyframe ordinals, fps."""
        self._stream_index = stream.index
        self.codec = stream.codec_context.name
        self.container_format = container.format.name
        self.has_b_frames = bool(
            stream.codec_context.has_b_frames
        )  # frames are reordered on output
        pts, keys = [], []
        damaged = False
        try:
            for packet in container.demux(stream):
                # size 0: the end-of-stream flush packet; discard: pre-roll that an edit list hides.
                if packet.size > 0 and not packet.is_discard:
                    pts.append(packet.pts)
                    keys.append(packet.is_keyframe)
        except av.FFmpegError:  # damaged tail: keep the packets read so far
            damaged = True
        self.num_frames = len(pts)
        declared = stream.frames
        if self.num_frames == 0:
            raise VideoDecodeError(
                self.path, "truncated or corrupt (the video stream has no frames)"
            )
        if damaged or declared > self.num_frames + max(2, declared // 20):
            warnings.warn(
                f"{os.path.basename(self.path)!r} looks truncated: the container declares "
                f"{declared} frames but only {self.num_frames} could be read; using those",
                stacklevel=2,
            )
        # Ordinal of a frame = rank of its pts among all pts when the timestamps are usable; else
        # its position in the file (true for streams without B-frames, and what decord assumes).
        self._pts_rank: dict[int, int] | None = None
        if None not in pts and len(set(pts)) == len(pts):
            self._pts_rank = {p: r for r, p in enumerate(sorted(pts))}
        self._seekable = self._pts_rank is not None  # until a seek lands somewhere we cannot place
        ranked = [self._pts_rank[p] if self._pts_rank else i for i, p in enumerate(pts)]
        # Seeking is by the keyframe's pts: FFmpeg's demuxers (mov, matroska, avi) land exactly on
        # it, while its dts (smaller with B-frames) makes mov land on the keyframe before.
        keyframes = sorted((ranked[i], pts[i]) for i in range(len(pts)) if keys[i])
        self._key_ordinals = [k for k, _ in keyframes]
        self._key_pts = [p for _, p in keyframes]
        self.fps = self._average_rate(stream, container)

    def _average_rate(
        self, stream: av.video.stream.VideoStream, container: av.container.InputContainer
    ) -> float:
        # avg_frame_rate is what decord reports too; the others are FFmpeg's guesses when unset.
        for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
            if rate and rate > 0:
                return float(rate)
        if container.duration:  # microseconds
            return self.num_frames / (container.duration / 1e6)
        return 25.0  # no timing at all (raw elementary stream): the common PAL default

    def _open_at_start(self) -> None:
        """(Re)open the file so that the next frame decoded is frame 0."""
        self.close()
        self._container = av.open(self.path, metadata_errors="ignore")
        stream = self._container.streams[self._stream_index]
        stream.codec_context.thread_count = self.num_threads  # 0 lets FFmpeg pick
        if self.num_threads != 1:
            stream.codec_context.thread_type = "AUTO"
        self._frames = self._decode(first_ordinal=0)
        self._next = 0

    def _decode(self, first_ordinal: int | None) -> Iterator[tuple[int | None, av.VideoFrame]]:
        """Yield (ordinal, frame) from the current position to the end of the file.

        `first_ordinal=None` (after a seek): place the first frame by its pts, and yield ordinal
        None if its pts is unknown (the seek cannot be verified).
        """
        ordinal = None if first_ordinal is None else first_ordinal - 1
        stream = self._container.streams[self._stream_index]
        for packet in self._container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:  # one damaged packet: skip it rather than give up on the file
                continue
            for frame in frames:
                # After a seek FFmpeg may land before or after the keyframe asked for: the first
                # frame's pts says where we are; from there on, count.
                ordinal = self._pts_rank.get(frame.pts) if ordinal is None else ordinal + 1
                self.frames_decoded += 1
                yield ordinal, frame

    def _to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        # rgb24 through swscale's default path is bit-identical to decord's conversion on all test
        # clips (also full-range yuvj420p); width/height keep a mid-stream size change stackable.
        h, w = self.coded_size
        return np.ascontiguousarray(
            self.transform(frame.to_ndarray(format="rgb24", width=w, height=h))
        )

    def _tolerable_tail(self) -> int:
        # Containers often declare a frame or two that never decode (AVI "not coded" frames, a last
        # packet cut in half): those indices repeat the last frame. A larger gap means damage.
        return max(2, self.num_frames // 20)

    def _key_before(self, target: int) -> tuple[int, int]:
        """(position in the keyframe list, ordinal) of the last keyframe at or before `target`."""
        key = bisect.bisect_right(self._key_ordinals, target) - 1
        if key < 0 or not self._seekable:  # decode from the start
            return -1, 0
        return key, self._key_ordinals[key]

    def _position(self, target: int, back: int = 0) -> str:
        """Make the decoder's next frame one at or before `target`, decoding as little as possible.

        `back` > 0 retries after a seek that landed past `target`: seek `back` keyframes earlier.
        Returns how: "continue" (from where the last read stopped), "seek" or "start".
        """
        key, key_ordinal = self._key_before(target)
        if back == 0 and self._frames is not None and key_ordinal <= self._next <= target:
            return "continue"  # no keyframe between here and the target: just decode on
        key -= back
        if key < 0 or self._key_ordinals[key] == 0 or back > 3:
            self._open_at_start()
            return "start"
        if self._container is None:  # closed (VideoReader keeps a closed backend to fall back on)
            self._open_at_start()
        stream = self._container.streams[self._stream_index]
        self._container.seek(self._key_pts[key], stream=stream, backward=True)
        self._frames = self._decode(first_ordinal=None)
        return "seek"

    def get_frames(self, indices: list[int]) -> np.ndarray:
        """Decode the frames at in-range `indices` (any order); return (len, H, W, 3) uint8."""
        limit = self._decodable or self.num_frames
        indices = [min(max(i, 0), limit - 1) for i in indices]
        pending = sorted(set(indices))  # ascending: one pass through the file
        got: dict[int, np.ndarray] = {}
        back = 0
        while pending:
            how = self._position(pending[0], back)
            last: tuple[int, av.VideoFrame] | None = None
            for ordinal, frame in self._frames:
                if ordinal is None:  # a seek landed on a frame the index does not know
                    self._seekable = False  # (MPEG-PS/TS timestamps): from now on, never seek
                    self._frames = None
                    break
                self._next = ordinal + 1
                if last is None and ordinal > pending[0]:  # the seek landed after the target
                    back += 1
                    self._frames = None
                    break
                last = (ordinal, frame)
                if ordinal == pending[0]:
                    got[ordinal] = self._to_rgb(frame)
                    pending.pop(0)
                    back = 0
                    if not pending:
                        break
                    if self._key_before(pending[0])[1] > self._next:
                        break  # a keyframe lies closer to the next wanted frame: seek instead
            else:  # the decoder ran dry before all wanted frames
                self._frames = None
                if how == "seek" and last is None:  # sought past the last decodable frame
                    back += 1
                    continue
                limit = self._end_of_file(last)
                if last is not None and last[0] == limit - 1:
                    got[limit - 1] = self._to_rgb(last[1])
                pending = sorted({min(i, limit - 1) for i in pending} - got.keys())
        if not indices:
            return np.empty((0, *self.size, 3), np.uint8)
        limit = self._decodable or self.num_frames
        return np.stack([got[min(i, limit - 1)] for i in indices])

    def _end_of_file(self, last: tuple[int, av.VideoFrame] | None) -> int:
        """Learn how many frames really decode; raise if far fewer than the container has."""
        decodable = last[0] + 1 if last is not None else self._next
        if decodable <= 0 or self.num_frames - decodable > self._tolerable_tail():
            raise VideoDecodeError(
                self.path,
                f"truncated or corrupt (decoded {max(decodable, 0)} of {self.num_frames} frames)",
            )
        self._decodable = decodable
        return decodable

    def close(self) -> None:
        """Close the file; a later `get_frames` reopens it."""
        self._frames = None
        if self._container is not None:
            self._container.close()
            self._container = None
