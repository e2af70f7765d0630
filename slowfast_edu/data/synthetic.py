"""A synthetic motion dataset that a Slow-only network cannot solve and SlowFast can.

The lesson. Each clip shows one coloured shape on a dark textured background. Its class is *which*
shape it is (red circle, blue square, yellow triangle: appearance, visible in any single frame)
and *which way it moves* (left or right: motion). The motion is visible only at a high frame rate:

- the clip is cut into segments of `MAX_SEGMENT` = 4 frames (starting at a random point of one);
- within a segment the shape glides steadily, 3 to 4 pixels per frame, to the left or the right;
- at every cut it jumps to a new, uniformly random place (a square or triangle also to a random
  orientation), so two frames 4 or more apart are never in the same segment.

The Slow pathway sees frames at least 4 apart (frames 0, 5, 10, 15 of the 16-frame Fast clip with
`pack_pathways`, or every `tau` = 4th frame), so each of its frames shows an independent,
uniformly random placement of the shape, whatever the direction. The frame wraps around (a shape
that leaves on the right comes back on the left, as in old arcade games), which makes "uniformly
random" exact: no place is likelier for one direction than the other, at any temporal offset.
So `red_circle_moving_left` and `red_circle_moving_right` are *identically distributed* for a
sparse sampler, and a Slow-only network is stuck at chance on the direction: about 50% overall.
The Fast pathway sees every frame, so its small 3D kernels see the shape step left or right
between neighbouring frames; the lateral connections hand that to the Slow pathway, which knows
the colour and the shape. SlowFast gets both right.

Distractors keep it from being trivial: a smooth random background texture, per-frame pixel noise,
size, colour and speed jitter within a class, and a grey ring that also glides (left, right or not
at all, at random in each segment), so "something moves left" is not enough: it must be the
coloured shape. `one_moving_object(plan)` draws the clip without the ring and without the jumps:
the shape glides steadily through every frame. Never flip these clips horizontally as augmentation: a flip turns left into right.

The module-level knobs (`SEGMENTS`, `SPEED`, `RADIUS`, `BACKGROUND`, `NOISE`, `DISTRACTOR`) are
there to be changed: make the segments longer than the Slow pathway's frame gap and watch
Slow-only catch up. `generate_clip(class_id, seed)` returns the frames (same arguments, same
bytes); `write_dataset(out_dir)` writes mp4 files and the CSVs that `KineticsDataset` reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

# Light colours: every channel of every shape is far above the dark background, so that a motion
# detector that looks at any one channel works for every shape (with saturated colours the Fast
# pathway's few channels tend to learn motion in red only, and miss the blue square's).
APPEARANCES = {  # name: (RGB colour, shape)
    "red_circle": ((250, 130, 120), "circle"),
    "blue_square": ((120, 150, 255), "square"),
    "yellow_triangle": ((245, 230, 120), "triangle"),
}
MOTIONS = {"moving_left": -1, "moving_right": +1}  # name: direction along x
CLASSES = [f"{a}_{m}" for a in APPEARANCES for m in MOTIONS]  # a class id indexes this list
FPS = 30
# The design's knobs. Pixel values are for 64 x 64 frames and scale with the frame size.
SEGMENTS = (4,)  # segment lengths in frames, drawn at random; keep them below the Slow gap
MAX_SEGMENT = max(SEGMENTS)  # frames this far apart or more show independent placements
SPEED = (3.0, 4.0)  # pixels per frame of the gliding shape, drawn per clip
# The radius of the shape in pixels, drawn per clip (the ring's is 0.7 to 1 times that): about
# 11% of the frame, so that a model's Grad-CAM map at res5 (8 x 8 cells at 64 px) can show where
# it is
RADIUS = (11.0, 14.0)
BACKGROUND = (20, 60)  # grey range of the background texture (dark: every shape is brighter)
NOISE = 3.0  # standard deviation of the per-frame pixel noise, in grey levels
DISTRACTOR = True  # draw the gliding grey ring


def class_parts(class_id: int) -> tuple[str, str]:
    """(appearance, motion) of class `class_id`, e.g. ("red_circle", "moving_left")."""
    if not 0 <= class_id < len(CLASSES):
        raise ValueError(f"class_id must be in 0..{len(CLASSES) - 1} (see CLASSES), got {class_id}")
    return list(APPEARANCES)[class_id // len(MOTIONS)], list(MOTIONS)[class_id % len(MOTIONS)]


def motion_twins(class_id: int) -> list[int]:
    """The classes with the appearance of `class_id` (itself included), which differ only in
    motion: a sparse sampler cannot tell them apart."""
    first = class_id // len(MOTIONS) * len(MOTIONS)
    return list(range(first, first + len(MOTIONS)))


@dataclass
class ClipPlan:
    """Every random choice of a clip, made before any pixel is drawn. Arrays are per frame (T,)."""

    size: int  # frames are size x size pixels
    colour: np.ndarray  # (3,) RGB of the shape
    shape: str  # "circle", "square" or "triangle"
    radius: float
    direction: int  # -1 left, +1 right
    speed: float  # pixels per frame
    segment: np.ndarray  # (T,) segment index of each frame
    x: np.ndarray  # (T,) centre of the shape in pixels; the frame wraps: x is taken modulo size
    y: np.ndarray  # (T,)
    angle: np.ndarray  # (T,) radians
    ring_x: np.ndarray  # (T,) the distractor's centre
    ring_y: np.ndarray  # (T,)
    ring_radius: float
    background: np.ndarray  # (H, W, 3) float
    noise_seed: int
    distractor: bool = True  # draw the ring (False: a clip with one moving object, the shape)


def _segments(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """(T,) segment index of each frame; segment lengths drawn from `SEGMENTS`."""
    lengths = rng.choice(SEGMENTS, size=num_frames)  # more than enough segments
    lengths[0] = rng.integers(1, lengths[0] + 1)  # the clip starts at a random point of one
    return np.repeat(np.arange(num_frames), lengths)[:num_frames]


def _glide(rng: np.random.Generator, segment: np.ndarray, size: int, velocity, margin: float):
    """x and y per frame: a uniformly random place at each segment's start, then `velocity`
    pixels per frame along x (a number, or one per frame). x wraps around (any value, taken
    modulo size); y keeps `margin` pixels from the top and bottom edges, which do not wrap."""
    n = segment[-1] + 1
    x0, y0 = rng.uniform(0, size, n), rng.uniform(margin, size - margin, n)
    starts = np.searchsorted(segment, np.arange(n))
    step = np.arange(len(segment)) - starts[segment]  # frames since the segment began
    return x0[segment] + velocity * step, y0[segment]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth, dark, slightly tinted texture: random 9 x 9 values, bilinearly upsampled."""
    grid = 9
    coarse = rng.uniform(*BACKGROUND, (grid, grid, 1)) + rng.uniform(-10, 10, (grid, grid, 3))
    pos = np.linspace(0, grid - 1, size)
    i = np.minimum(pos.astype(int), grid - 2)
    f = (pos - i)[:, None, None]
    rows = coarse[i] * (1 - f) + coarse[i + 1] * f  # (size, grid, 3)
    f = (pos - i)[None, :, None]
    return rows[:, i] * (1 - f) + rows[:, i + 1] * f  # (size, size, 3)


def plan_clip(class_id: int, seed: int, num_frames: int = 64, size: int = 64) -> ClipPlan:
    """Make every random choice of clip `seed` of class `class_id`. Motion twins with the same
    seed draw the same numbers: same colour, size, background, placements and noise."""
    appearance, motion = class_parts(class_id)
    if size < 32 or size % 2:
        raise ValueError(f"size must be even and at least 32 (H.264 needs even sizes), got {size}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    colour, shape = APPEARANCES[appearance]
    direction = MOTIONS[motion]
    rng = np.random.default_rng(seed)
    colour = np.clip(np.array(colour, float) + rng.uniform(-20, 20, 3), 0, 255)
    radius = size / 64 * rng.uniform(*RADIUS)
    speed = size / 64 * rng.uniform(*SPEED)
    segment = _segments(rng, num_frames)
    x, y = _glide(rng, segment, size, direction * speed, 1.35 * radius)
    angle = rng.uniform(0, 2 * np.pi, segment[-1] + 1)[segment]
    ring_velocity = speed * rng.choice([-1, 0, 1], segment[-1] + 1)[segment]  # (T,)
    ring_radius = radius * rng.uniform(0.7, 1.0)
    ring_x, ring_y = _glide(rng, segment, size, ring_velocity, ring_radius)
    return ClipPlan(size, colour, shape, radius, direction, speed, segment, x, y, angle,
                    ring_x, ring_y, ring_radius, _background(rng, size), int(rng.integers(2**31)),
                    DISTRACTOR)


def _sdf(shape: str, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """Signed distance in pixels (negative inside) to `shape` of radius `r` centred at 0, 0."""
    if shape == "circle":
        return np.hypot(u, v) - r
    if shape == "square":  # the circle's area
        return np.maximum(np.abs(u), np.abs(v)) - 0.886 * r
    if shape == "triangle":  # equilateral, about the circle's area
        edges = [np.pi / 2 + k * 2 * np.pi / 3 for k in range(3)]  # directions of the normals
        return np.max([u * np.cos(a) + v * np.sin(a) for a in edges], axis=0) - 0.675 * r
    if shape == "ring":
        return np.abs(np.hypot(u, v) - 0.7 * r) - 0.3 * r
    raise ValueError(f"unknown shape {shape!r}")


def _coverage(size: int, shape: str, x, y, angle, r: float) -> np.ndarray:
    """(T, H, W) fraction of each pixel the shape covers: anti-aliased, wrapping around."""
    grid = np.arange(size) + 0.5  # pixel centres
    dx = (grid[None, None, :] - np.asarray(x)[:, None, None] + size / 2) % size - size / 2
    dy = (grid[None, :, None] - np.asarray(y)[:, None, None] + size / 2) % size - size / 2
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u, v = c * dx + s * dy, -s * dx + c * dy  # (T, H, W): in the shape's own axes
    return np.clip(0.5 - _sdf(shape, u, v, r), 0, 1)


def render_clip(plan: ClipPlan) -> np.ndarray:
    """Draw `plan`: (T, H, W, 3) uint8 RGB frames."""
    t = len(plan.x)
    frames = np.repeat(plan.background[None], t, axis=0)  # (T, H, W, 3)
    if plan.distractor:
        ring = _coverage(plan.size, "ring", plan.ring_x, plan.ring_y, np.zeros(t),
                         plan.ring_radius)[..., None]  # (T, H, W, 1)
        frames = frames * (1 - ring) + 200.0 * ring
    shape = _coverage(plan.size, plan.shape, plan.x, plan.y, plan.angle, plan.radius)[..., None]
    frames = frames * (1 - shape) + plan.colour * shape
    frames += np.random.default_rng(plan.noise_seed).normal(0, NOISE, frames.shape)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


def one_moving_object(plan: ClipPlan) -> ClipPlan:
    """The clip of `plan` with no ring and the shape gliding steadily from its first place through
    every frame (one segment, no jumps): one moving object, e.g. to check where a model looks."""
    steps = np.arange(len(plan.x))  # (T,)
    return dataclasses.replace(
        plan, distractor=False, segment=np.zeros_like(plan.segment),
        x=plan.x[0] + plan.direction * plan.speed * steps, y=np.full_like(plan.y, plan.y[0]),
        angle=np.full_like(plan.angle, plan.angle[0]))


def object_mask(plan: ClipPlan) -> np.ndarray:
    """(T, H, W) bool: where the class's shape is (at least half covering the pixel), per frame."""
    return _coverage(plan.size, plan.shape, plan.x, plan.y, plan.angle, plan.radius) >= 0.5


def generate_clip(class_id: int, seed: int, num_frames: int = 64, size: int = 64) -> np.ndarray:
    """Clip `seed` of class `class_id` (an index into `CLASSES`): (T, H, W, 3) uint8 RGB."""
    return render_clip(plan_clip(class_id, seed, num_frames, size))


# ----------------------------------------------------------------------------------------------
# Writing the dataset: mp4 files and the CSVs `KineticsDataset` reads


def clip_seed(seed: int, split: str, class_id: int, index: int) -> int:
    """The `generate_clip` seed of video `index` of class `class_id` in `split` of dataset `seed`."""
    split_code = {"train": 0, "val": 1}[split]
    return int(np.random.SeedSequence([seed, split_code, class_id, index]).generate_state(1)[0])


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: int = FPS, crf: int = 18) -> None:
    """Encode (T, H, W, 3) uint8 RGB frames as an H.264 mp4 (libx264, yuv420p, constant `fps`)."""
    import av  # here, so that generating frames works without PyAV

    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 with yuv420p needs an even frame size, got {w}x{h}")
    # crf 18 keeps the colours and the few-pixel steps; one thread makes the bytes reproducible
    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps,
                                      options={"crf": str(crf), "preset": "medium", "threads": "1"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for img in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        container.mux(stream.encode())  # flush the encoder's delayed frames


def _write_one(job: tuple[str, int, int, int, int]) -> None:
    path, class_id, seed, num_frames, size = job
    write_video(path, generate_clip(class_id, seed, num_frames, size))


def write_videos(write: Callable[[tuple], None], jobs: list[tuple], workers: int = 1,
                 desc: str = "synthetic videos", progress: bool = True) -> None:
    """`write(job)` for every job (one video each), in `workers` processes when > 1 (`write`
    must then be a module-level function), with a progress bar."""
    bar = tqdm(total=len(jobs), desc=desc, unit="video", disable=not progress)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(write, jobs, chunksize=4):
                bar.update()
    else:
        for job in jobs:
            write(job)
            bar.update()
    bar.close()


def write_dataset(out_dir: str | os.PathLike, videos_per_class_train: int = 40,
                  videos_per_class_val: int = 20, num_frames: int = 64, size: int = 64,
                  seed: int = 0, workers: int = 1, progress: bool = True) -> dict[str, int]:
    """Write the synthetic set to `out_dir`; return the number of videos per split.

    Layout: `train/*.mp4`, `val/*.mp4`, `train.csv` and `val.csv` (PySlowFast's `path label` per
    line, space separated, no header; paths relative to the CSV's folder, which is where
    `KineticsDataset` looks for them), `classnames.json` (names in id order) and `README.md`.
    """
    if videos_per_class_train < 0 or videos_per_class_val < 0:
        raise ValueError("the numbers of videos per class cannot be negative")
    plan_clip(0, 0, num_frames, size)  # checks the arguments before anything is written
    out = Path(out_dir)
    jobs, lists = [], {}
    for split, per_class in (("train", videos_per_class_train), ("val", videos_per_class_val)):
        (out / split).mkdir(parents=True, exist_ok=True)
        lists[split] = []
        for class_id, name in enumerate(CLASSES):
            for i in range(per_class):
                relative = f"{split}/{name}_{i:04d}.mp4"
                lists[split].append(f"{relative} {class_id}\n")
                jobs.append((str(out / relative), class_id, clip_seed(seed, split, class_id, i),
                             num_frames, size))
    write_videos(_write_one, jobs, workers, "synthetic videos", progress)
    # the lists last: a set whose train.csv exists is complete (an interrupted one is redone)
    (out / "classnames.json").write_text(json.dumps(CLASSES, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(videos_per_class_train, videos_per_class_val,
                                           num_frames, size, seed), encoding="utf-8")
    for split, lines in reversed(lists.items()):  # train.csv, the one checked, at the very end
        (out / f"{split}.csv").write_text("".join(lines), encoding="utf-8")
    return {split: len(lines) for split, lines in lists.items()}


def _readme(train: int, val: int, num_frames: int, size: int, seed: int) -> str:
    classes = "\n".join(f"| {i} | `{name}` |" for i, name in enumerate(CLASSES))
    return f"""# Synthetic motion dataset

Made with `slowfast-edu data synthetic --out DIR`, i.e.

```python
from slowfast_edu.data.synthetic import write_dataset
write_dataset("DIR", videos_per_class_train={train}, videos_per_class_val={val}, num_frames={num_frames}, size={size}, seed={seed})
```

The frames are deterministic: video `i` of class `c` in split `s` ("train" or "val") holds the
frames of `generate_clip(c, clip_seed({seed}, s, c, i), {num_frames}, {size})`; the mp4 encoding
may differ by a few grey levels between library versions.

- {len(CLASSES)} classes: {len(APPEARANCES)} shapes ({", ".join(APPEARANCES)}) x {len(MOTIONS)} \
motions ({", ".join(MOTIONS)}); {train} train and {val} val videos per class.
- {num_frames} frames of {size} x {size} pixels at {FPS} fps, H.264 (libx264, crf 18, yuv420p).
- `train.csv`, `val.csv`: `path label` per line, space separated, no header, paths relative to
  this folder (as `KineticsDataset` reads them).
- `classnames.json`: the class names in id order.

The shape glides left or right for at most {MAX_SEGMENT} frames, then jumps to a random place.
Frames {MAX_SEGMENT} or more apart, which is all the Slow pathway sees, do not show which way it
moves: a Slow-only network gets the shape right and the direction at chance (about 50% top-1),
while SlowFast, whose Fast pathway sees every frame, gets both. The docstring of
`slowfast_edu.data.synthetic` explains the design. Do not train with horizontal flips: a flip
turns left into right.

| id | class |
|---:|---|
{classes}
"""
