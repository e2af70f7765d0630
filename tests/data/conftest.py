"""Generated video files for the decoding tests, made once per session with PyAV in a temp folder.

Every generated frame encodes its own index as grey horizontal bands (one base-8 digit per band,
levels 16, 48, ..., 240), which survives lossy codecs and chroma subsampling, so a test can check
that frame `i` really is frame `i`.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

LEVEL_STEP = 32  # grey levels 16 + 32 * digit: codec errors below 16 levels still read back right


def index_image(i: int, height: int, width: int, bands: int = 4) -> np.ndarray:
    """An RGB frame whose horizontal bands spell `i` in base 8, least significant digit on top."""
    img = np.empty((height, width, 3), np.uint8)
    edges = np.linspace(0, height, bands + 1).astype(int)
    for b in range(bands):
        img[edges[b] : edges[b + 1]] = 16 + LEVEL_STEP * ((i // 8**b) % 8)
    return img


def read_index(img: np.ndarray, bands: int = 4) -> int:
    """Inverse of `index_image`, from the middle rows of each band (robust to blurry band edges)."""
    img = np.asarray(img, dtype=np.float64)
    edges = np.linspace(0, img.shape[0], bands + 1).astype(int)
    value = 0
    for b in reversed(range(bands)):
        lo, hi = edges[b], edges[b + 1]
        middle = img[lo + (hi - lo) // 4 : hi - (hi - lo) // 4]
        value = value * 8 + int(round((middle.mean() - 16) / LEVEL_STEP))
    return value


def write_video(
    path: Path,
    num_frames: int,
    height: int,
    width: int,
    codec: str = "libx264",
    rate: fractions.Fraction | int = 25,
    pix_fmt: str = "yuv420p",
    bands: int = 4,
    pts_ms: list[int] | None = None,
    rotation: float | None = None,
    display_matrix: list[int] | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    images: Callable[[int], np.ndarray] | None = None,
) -> Path:
    """Encode `num_frames` index frames (or `images(i)`) into `path`; return `path`."""
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if pts_ms is not None:  # variable frame rate: explicit timestamps in milliseconds
            stream.time_base = stream.codec_context.time_base = fractions.Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if display_matrix is not None:
            stream.set_display_matrix(display_matrix)
        for i in range(num_frames):
            img = images(i) if images is not None else index_image(i, height, width, bands)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], fractions.Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_sine(path: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    """A short AAC sine tone: an audio-only file."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def has_encoder(name: str) -> bool:
    """True if this PyAV build can encode with codec `name`."""
    try:
        av.codec.Codec(name, "w")
    except Exception:
        return False
    return True


VFR_PTS_MS = np.cumsum([0] + [int(d) for d in np.random.RandomState(0).choice([20, 40, 100], 39)])
X264_FAST = {"preset": "ultrafast"}
VP9_FAST = {"deadline": "realtime", "cpu-used": "8"}
HFLIP_MATRIX = [-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]  # FFmpeg's display matrix, mirrored


def _noise(i: int) -> np.ndarray:
    return np.random.RandomState(i).randint(0, 256, (64, 96, 3), np.uint8)


def _marked(i: int) -> np.ndarray:
    """An index frame with a black top-left corner, so that every rotation and mirror shows."""
    img = index_image(i, 64, 96)
    img[:16, :24] = 0
    return img


def _av1(path: Path) -> Path:
    codec = next(c for c in ("libsvtav1", "libaom-av1", "librav1e") if has_encoder(c))
    options = {"preset": "12"} if codec == "libsvtav1" else {"cpu-used": "8"}
    return write_video(path, 10, 64, 96, codec=codec, options=options)


# name -> function writing that file at the given path. 64x96 frames unless said otherwise.
VALID: dict[str, Callable[[Path], Path]] = {
    # 120 frames, a keyframe every 50: the plain case
    "h264.mp4": lambda p: write_video(p, 120, 64, 96, options={"g": "50"}),
    "one_frame.mp4": lambda p: write_video(p, 1, 64, 96),
    # 2x2 frames (ffv1 and VP9 accept them; decord returns arrays of the wrong shape)
    "tiny_ffv1.mkv": lambda p: write_video(p, 8, 2, 2, codec="ffv1", bands=1),
    "tiny_vp9.webm": lambda p: write_video(p, 8, 2, 2, "libvpx-vp9", bands=1, options=VP9_FAST),
    # 47x33: odd sizes need a codec that allows them (MPEG-4 Part 2)
    "odd_size.avi": lambda p: write_video(p, 10, 33, 47, "mpeg4", options={"qscale": "2"}),
    "4k.mp4": lambda p: write_video(p, 3, 2160, 3840, options=X264_FAST),
    "vp9.webm": lambda p: write_video(p, 30, 64, 96, "libvpx-vp9", options=VP9_FAST),
    "av1.mp4": _av1,
    "vfr.mp4": lambda p: write_video(p, len(VFR_PTS_MS), 64, 96, pts_ms=VFR_PTS_MS.tolist()),
    "vfr.mkv": lambda p: write_video(p, len(VFR_PTS_MS), 64, 96, pts_ms=VFR_PTS_MS.tolist()),
    "rate_19.62.mp4": lambda p: write_video(p, 40, 64, 96, rate=fractions.Fraction(1962, 100)),
    # yuvj420p: full-range luma (0..255), not studio range (16..235)
    "fullrange_mjpeg.avi": lambda p: write_video(
        p, 20, 64, 96, "mjpeg", pix_fmt="yuvj420p", options={"qscale": "2"}
    ),
    # display matrices: rotations are counter-clockwise degrees; a selfie camera may mirror
    "rot90.mp4": lambda p: write_video(p, 10, 64, 96, rotation=90, images=_marked),
    "rot-90.mp4": lambda p: write_video(p, 10, 64, 96, rotation=-90, images=_marked),
    "rot180.mp4": lambda p: write_video(p, 10, 64, 96, rotation=180, images=_marked),
    "hflip.mp4": lambda p: write_video(p, 10, 64, 96, display_matrix=HFLIP_MATRIX, images=_marked),
    # 2400 tiny frames (96 s at 25 fps), a keyframe every 50 frames
    "long.mp4": lambda p: write_video(p, 2400, 32, 48, options={"g": "50", "sc_threshold": "0"}),
    # decord's seek-then-count returns wrong frames on these (checked by hand); PyAV must not
    "mpegts.ts": lambda p: write_video(p, 120, 64, 96, options={"g": "16"}),
    "mpeg2_ps.mpg": lambda p: write_video(p, 120, 64, 96, "mpeg2video", options={"bf": "2"}),
    "mpeg4_bframes.mp4": lambda p: write_video(p, 120, 64, 96, "mpeg4", options={"bf": "2"}),
    "h264_bframes.avi": lambda p: write_video(p, 120, 64, 96, options={"g": "25"}),
    # the index ('moov') before the data, as web videos have it; noise frames
    "faststart.mp4": lambda p: write_video(
        p, 120, 64, 96, container_options={"movflags": "faststart"}, images=_noise
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _cut(source: Path, path: Path, keep: float) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _zero_tail(source: Path, path: Path) -> Path:
    data = bytearray(source.read_bytes())
    start = data.find(b"mdat") + int(len(data) * 0.3)
    data[start:] = bytes(len(data) - start)
    path.write_bytes(bytes(data))
    return path


def _png(path: Path) -> Path:
    from PIL import Image

    Image.fromarray(index_image(3, 32, 32)).save(path, format="PNG")
    return path


# name -> function(path, make) writing a broken file; `make(name)` gives a valid file to damage.
BROKEN: dict[str, Callable[[Path, Callable[[str], Path]], Path]] = {
    "empty.mp4": lambda p, make: _write(p, b""),
    # cut to 30%: the 'moov' index, written last, is gone
    "truncated.mp4": lambda p, make: _cut(make("h264.mp4"), p, 0.3),
    # index intact, 70% of the frames missing
    "truncated_faststart.mp4": lambda p, make: _cut(make("faststart.mp4"), p, 0.3),
    # all packets in the index, but the last 70% of the data is zeros
    "zeroed.mp4": lambda p, make: _zero_tail(make("faststart.mp4"), p),
    "text.mp4": lambda p, make: _write(p, b"Not a video.\nA note saved as clip.mp4.\n" * 9),
    "png.mp4": lambda p, make: _png(p),
    "audio_only.m4a": lambda p, make: write_sine(p),
    "random.mp4": lambda p, make: _write(p, np.random.RandomState(0).bytes(64 * 1024)),
    "missing.mp4": lambda p, make: p,  # never written
}


@pytest.fixture(scope="session")
def make_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`make_video("vp9.webm")` -> path of that generated file, written on first use."""
    folder = tmp_path_factory.mktemp("videos")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            path = folder / name
            made[name] = VALID[name](path) if name in VALID else BROKEN[name](path, get)
        return made[name]

    return get


@pytest.fixture(scope="session")
def frame_index() -> Callable[..., int]:
    """`frame_index(img, bands=4)`: the index a generated frame spells (see `index_image`)."""
    return read_index


# a dataset's settings small enough for tests: 8 frames every 2nd, 32 px crops
SMALL = dict(num_frames=8, sampling_rate=2, alpha=4, crop_size=32, short_side=(32, 40),
             test_short_side=32, test_crop_size=32)


def write_small_videos(root: Path) -> Path:
    """a0, a1 (class 0) and b0, b1 (class 1): 40 frames of 48 x 64 at 30 fps, in `root`."""
    for name in ["a0", "a1", "b0", "b1"]:
        write_video(root / f"{name}.mp4", num_frames=40, height=48, width=64, rate=30)
    return root
