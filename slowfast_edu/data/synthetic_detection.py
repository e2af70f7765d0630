"""A synthetic action-detection set in AVA's formats, where only the Fast pathway sees the actions.

Each video shows 2 or 3 objects (the shapes of the classification set, `synthetic.py`, drawn with
its functions) on a dark textured background. Every object has its own action, one of

    1 moving_left, 2 moving_right, 3 staying_still

and, like AVA, the video has a key frame every second (frames 30, 60, ... at 30 fps), where each
object has a box (tight around it) and its action: a multi-label set with one label per box. The
files are those of AVA (`ava.py`): an annotation CSV per split, a label map, person boxes with
scores, so that `AvaDataset` reads it like AVA itself.

What makes it a lesson: the action is visible only at a high frame rate. As in the classification
set, time is cut into segments of at most 4 frames; within a segment each object glides (3 to 4
pixels per frame, left or right) or stays; at every cut it jumps to a new, uniformly random place
(the frame wraps around, so "uniformly random" holds at every frame of a segment). Around each key
frame the cut is placed so that the key frame's segment is frames -2 ... +1 from it, and the
object's place *at the key frame*, its box, is drawn uniformly too, whatever the action. The
Slow pathway of the teaching detectors sees 4 frames of the 16 around the key frame, at -8, -3,
+2 and +7 (`pack_pathways`): none in the key frame's segment, and no two in one segment, so each
shows every object at an independent, uniformly random place, the same for every action, and the
box says nothing either. A Slow-only detector can only guess (its AP near each class's share of
the boxes); the Fast pathway sees the object step between neighbouring frames, at the box.

(Other clip geometries: a Slow frame at -2 ... +1 from the key frame, e.g. 32 frames at stride 1
with alpha = 4 (Slow at +1), would show where the object is going. Slow frames 5 or more apart with
none in the key segment keep the set fair: the 8x8 R50's, at -32, -24, -16, -6, +2, ... frames, do.)

`plan_video(seed)` makes every random choice, `render_video(plan)` draws it; `write_dataset(out)`
writes the mp4 files and the CSVs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ava import AvaBox, write_annotations, write_detections, write_label_map
from .synthetic import (APPEARANCES, FPS, NOISE, SEGMENTS, SPEED, _background, _coverage,
                        write_video, write_videos)

ACTIONS = {1: "moving_left", 2: "moving_right", 3: "staying_still"}  # AVA-style ids from 1
VELOCITY = {1: -1, 2: +1, 3: 0}  # direction along x
KEY_SEGMENT = (-2, 1)  # the key frame's segment: these frames around it (inclusive)
OBJECTS = (2, 3)  # objects per video, drawn at random
RADIUS = (7.0, 9.0)  # pixels at 64 x 64 (scales with the frame): a box of about a quarter side


@dataclass
class ObjectPlan:
    """One object: what it looks like, its action, and where it is in every frame (T,)."""

    shape: str
    colour: np.ndarray  # (3,)
    radius: float
    action: int  # a key of ACTIONS
    x: np.ndarray  # (T,) centre; the frame wraps around
    y: np.ndarray  # (T,)
    angle: np.ndarray  # (T,)


@dataclass
class VideoPlan:
    """Every random choice of a video: its objects, background and noise, its key frames."""

    size: int
    key_frames: list[int]  # frame indices, one per second: 30, 60, ...
    objects: list[ObjectPlan]
    background: np.ndarray  # (H, W, 3) float
    noise_seed: int


def timeline(rng: np.random.Generator, num_frames: int, key_frames: list[int]) -> np.ndarray:
    """(T,) segment index of each frame: segments of `SEGMENTS` frames, cut so that each key
    frame's segment is exactly `KEY_SEGMENT` around it."""
    key_starts = {k + KEY_SEGMENT[0] for k in key_frames}
    key_length = KEY_SEGMENT[1] - KEY_SEGMENT[0] + 1
    cuts, t = [], -int(rng.integers(0, max(SEGMENTS)))  # begin at a random point of a segment
    while t < num_frames:
        cuts.append(max(t, 0))
        end = t + (key_length if t in key_starts else int(rng.choice(SEGMENTS)))
        t = min([s for s in key_starts if t < s < end], default=end)  # stop at a key segment
    return np.searchsorted(cuts, np.arange(num_frames), side="right") - 1


def _object(rng: np.random.Generator, size: int, segment: np.ndarray, key_frames: list[int],
            key_places: list[tuple[float, float]], action: int, appearance: str) -> ObjectPlan:
    colour, shape = APPEARANCES[appearance]
    colour = np.clip(np.array(colour, float) + rng.uniform(-20, 20, 3), 0, 255)
    radius = size / 64 * rng.uniform(*RADIUS)
    velocity = VELOCITY[action] * size / 64 * rng.uniform(*SPEED)
    n = segment[-1] + 1
    margin = 1.35 * radius
    x0, y0 = rng.uniform(0, size, n), rng.uniform(margin, size - margin, n)  # each segment's
    angle = rng.uniform(0, 2 * np.pi, n)
    anchor = np.searchsorted(segment, np.arange(n))  # the frame each segment's place is at
    for k, (x, y) in zip(key_frames, key_places):
        x0[segment[k]], y0[segment[k]], anchor[segment[k]] = x, y, k  # the box: at the key frame
    steps = np.arange(len(segment)) - anchor[segment]  # frames since (or before) the anchor
    return ObjectPlan(shape, colour, radius, action, x0[segment] + velocity * steps, y0[segment],
                      angle[segment])


def plan_video(seed: int, num_key_frames: int = 2, size: int = 64,
               swap: dict[int, int] | None = None) -> VideoPlan:
    """Every random choice of video `seed`: 2-3 objects, each with its own action and look.
    `swap` replaces actions ({1: 2, 2: 1}: left and right exchanged) and nothing else: the
    same objects, places and boxes, only moving the other way (a video's "motion twin")."""
    if size < 32 or size % 2:
        raise ValueError(f"size must be even and at least 32 (H.264 needs even sizes), got {size}")
    if num_key_frames < 1:
        raise ValueError(f"num_key_frames must be at least 1, got {num_key_frames}")
    rng = np.random.default_rng(seed)
    key_frames = [FPS * (s + 1) for s in range(num_key_frames)]
    num_frames = FPS * (num_key_frames + 1)
    segment = timeline(rng, num_frames, key_frames)
    count = int(rng.integers(OBJECTS[0], OBJECTS[1] + 1))
    actions = [(swap or {}).get(int(a), int(a)) for a in rng.integers(1, len(ACTIONS) + 1, count)]
    looks = rng.choice(list(APPEARANCES), count)
    # the objects' places at each key frame: uniform, inside the frame, not overlapping
    edge = size / 64 * RADIUS[1] * 1.35  # a turned square reaches 1.25 radii from its centre
    apart = 2 * edge / 1.35 * 1.25  # centres this far apart (in x or y): boxes never overlap
    places = [[] for _ in range(count)]
    for _ in key_frames:
        while True:  # rejection sampling: uniform among the allowed placements (~1 in 25 for 3)
            chosen = rng.uniform(edge, size - edge, (count, 2))
            gaps = np.abs(chosen[:, None] - chosen[None]).max(axis=2) + np.eye(count) * size
            if gaps.min() > apart:
                break
        for i, p in enumerate(chosen):
            places[i].append(tuple(p))
    objects = [_object(rng, size, segment, key_frames, places[i], actions[i], str(looks[i]))
               for i in range(count)]
    return VideoPlan(size, key_frames, objects, _background(rng, size), int(rng.integers(2**31)))


def render_video(plan: VideoPlan) -> np.ndarray:
    """Draw `plan`: (T, H, W, 3) uint8 RGB frames."""
    t = len(plan.objects[0].x)
    frames = np.repeat(plan.background[None], t, axis=0)  # (T, H, W, 3)
    for o in plan.objects:
        cover = _coverage(plan.size, o.shape, o.x, o.y, o.angle, o.radius)[..., None]
        frames = frames * (1 - cover) + o.colour * cover
    frames += np.random.default_rng(plan.noise_seed).normal(0, NOISE, frames.shape)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


def key_frame_boxes(plan: VideoPlan) -> list[tuple[int, int, tuple[float, float, float, float]]]:
    """(key frame, object, box) for every object at every key frame: the tight box around the
    pixels it covers at least half, normalised to [0, 1]."""
    boxes = []
    for k in plan.key_frames:
        for i, o in enumerate(plan.objects):
            mask = _coverage(plan.size, o.shape, o.x[k:k + 1], o.y[k:k + 1], o.angle[k:k + 1],
                             o.radius)[0] >= 0.5  # (H, W)
            rows, cols = np.nonzero(mask)
            box = (float(cols.min() / plan.size), float(rows.min() / plan.size),
                   float((cols.max() + 1) / plan.size), float((rows.max() + 1) / plan.size))
            boxes.append((k, i, box))
    return boxes


def annotations(plan: VideoPlan, video_id: str) -> list[AvaBox]:
    """The video's AVA annotation rows: one per object and key frame (person_id = object)."""
    return [AvaBox(video_id, k // FPS, box, plan.objects[i].action, i)
            for k, i, box in key_frame_boxes(plan)]


def proposals(plan: VideoPlan, video_id: str, seed: int) -> list[AvaBox]:
    """What a person detector might give: each box slightly off, scoring 0.85-1, and 0-2 false
    boxes per key frame scoring below 0.8 (the paper's test threshold drops them)."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, _, box in key_frame_boxes(plan):
        b = np.clip(np.array(box) + rng.normal(0, 0.01, 4), 0, 1)
        rows.append(AvaBox(video_id, k // FPS, tuple(map(float, b)), None,
                           score=float(rng.uniform(0.85, 1.0))))
    for k in plan.key_frames:
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, 0.75, 2)
            rows.append(AvaBox(video_id, k // FPS, (x, y, x + 0.25, y + 0.25), None,
                               score=float(rng.uniform(0.05, 0.75))))
    return rows


def video_seed(seed: int, split: str, index: int) -> int:
    """The `plan_video` seed of video `index` of `split` in dataset `seed`."""
    code = {"train": 0, "val": 1}[split]
    return int(np.random.SeedSequence([seed, 100 + code, index]).generate_state(1)[0])


def _write_one(job: tuple[str, int, int, int]) -> None:
    path, seed, num_key_frames, size = job
    write_video(path, render_video(plan_video(seed, num_key_frames, size)))


def write_dataset(out_dir: str | os.PathLike, videos_train: int = 60, videos_val: int = 30,
                  num_key_frames: int = 3, size: int = 64, seed: int = 0, workers: int = 1,
                  progress: bool = True) -> dict[str, int]:
    """Write the set to `out_dir`; return the number of key frames per split.

    Layout: `videos/{video_id}.mp4`; `train.csv`, `val.csv` (AVA annotation rows);
    `label_map.pbtxt`; `val_proposals.csv` (person boxes with scores); `classnames.json`
    (the action names, column order of the labels); `README.md`.
    """
    if videos_train < 0 or videos_val < 0:
        raise ValueError("the numbers of videos cannot be negative")
    plan_video(0, num_key_frames, size)  # checks the arguments before anything is written
    out = Path(out_dir)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    jobs, counts = [], {}
    for split, n in (("train", videos_train), ("val", videos_val)):
        rows, boxes = [], []
        for i in range(n):
            video_id, s = f"{split}_{i:04d}", video_seed(seed, split, i)
            plan = plan_video(s, num_key_frames, size)
            rows += annotations(plan, video_id)
            if split == "val":
                boxes += proposals(plan, video_id, s)
            jobs.append((str(out / "videos" / f"{video_id}.mp4"), s, num_key_frames, size))
        write_annotations(out / f"{split}.csv", rows)
        if split == "val":
            write_detections(out / "val_proposals.csv", boxes)
        counts[split] = n * num_key_frames
    write_label_map(out / "label_map.pbtxt", ACTIONS)
    (out / "classnames.json").write_text(json.dumps(list(ACTIONS.values()), indent=1) + "\n",
                                         encoding="utf-8")
    (out / "README.md").write_text(_readme(videos_train, videos_val, num_key_frames, size, seed),
                                   encoding="utf-8")
    write_videos(_write_one, jobs, workers, "synthetic detection videos", progress)
    return counts


def _readme(train: int, val: int, num_key_frames: int, size: int, seed: int) -> str:
    actions = "\n".join(f"| {i} | `{name}` |" for i, name in ACTIONS.items())
    return f"""# Synthetic action-detection set (AVA formats)

Made with

```python
from slowfast_edu.data.synthetic_detection import write_dataset
write_dataset("DIR", videos_train={train}, videos_val={val}, num_key_frames={num_key_frames},
              size={size}, seed={seed})
```

Video `{{split}}_{{i:04d}}` holds the frames of
`render_video(plan_video(video_seed({seed}, split, i), {num_key_frames}, {size}))`:
{FPS * (num_key_frames + 1)} frames of {size} x {size} at {FPS} fps, H.264. Key frames every \
second ({", ".join(f"{s + 1} s" for s in range(num_key_frames))}), 2 or 3 objects each \
with its own action.

- `train.csv`, `val.csv`: AVA annotation rows, `video_id,timestamp,x1,y1,x2,y2,action_id,person_id`
  (boxes normalised; person_id = the object).
- `label_map.pbtxt`: the actions, AVA v2.2 style; `classnames.json`: their names in label order.
- `val_proposals.csv`: person boxes as a detector would give them, `...,action_id,score`
  (the action empty); the true boxes score 0.85-1, false ones below 0.8.
- Read it with `slowfast_edu.data.AvaDataset(DIR / "train.csv", DIR / "videos", num_classes=3,
  ...)`; never flip: a flip turns left into right.

Within segments of at most 4 frames each object glides left or right, or stays; at each cut it
jumps to a random place. Frames 5 or more apart, which is what a Slow pathway sees, do not show
the actions; the Fast pathway sees every frame. The docstring of
`slowfast_edu.data.synthetic_detection` explains the design.

| id | action |
|---:|---|
{actions}
"""
