"""A synthetic multi-label set: several shapes in each clip, each moving its own way.

The classes are those of the motion set (`data.synthetic`): a shape (red circle, blue square,
yellow triangle) and a direction (left, right), 6 in all. A clip shows 1 to 3 of the shapes
(`OBJECTS`), each at most once, each gliding left or right by its own draw, with the motion set's
rules for every object: it glides for at most 4 frames, then jumps to a random place, so only a
dense sampler sees which way it goes. The clip's label is the *set* of (shape, direction) present,
e.g. {red_circle_moving_left, yellow_triangle_moving_right}: a multi-label problem, scored by mAP
(`slowfast_edu.mean_ap`) and trained with a sigmoid per class (`head="multilabel"`). A model must
bind each direction to the right shape, since different shapes in one clip move different ways.

The objects are drawn by the motion set's own planner and painter (`synthetic.plan_clip`,
`synthetic._coverage`), each with its own seed, smaller (`SCALE`) so that three fit in a 64-pixel
frame, on the first object's background, later objects in front. `write_dataset(out_dir)` writes
mp4 files and `train.csv`/`val.csv` with one `path labels` row per video (space separated, no
header, `labels` the class ids joined by commas: `train/0007.mp4 0,5`), which
`data.multilabel.MultiLabelDataset` reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from . import synthetic
from .synthetic import APPEARANCES, CLASSES, MOTIONS, write_video, write_videos

OBJECTS = (1, 2, 3)  # how many shapes a clip shows, drawn uniformly
SCALE = 0.7  # the shapes' radius, relative to the motion set's (11-14 px at 64 px): 8-10 px


def plan_objects(seed: int, num_frames: int = 32, size: int = 64
                 ) -> list[synthetic.ClipPlan]:
    """The plans of clip `seed`'s objects, back to front: distinct shapes, each its own motion."""
    rng = np.random.default_rng(seed)
    count = int(rng.choice(OBJECTS))
    shapes = rng.choice(len(APPEARANCES), size=count, replace=False)
    directions = rng.integers(len(MOTIONS), size=count)
    plans = []
    for shape, direction in zip(shapes, directions):
        class_id = int(shape) * len(MOTIONS) + int(direction)  # an index into CLASSES
        plan = synthetic.plan_clip(class_id, int(rng.integers(2**31)), num_frames, size)
        plans.append(dataclasses.replace(plan, radius=plan.radius * SCALE, distractor=False))
    return plans


def labels_of(plans: list[synthetic.ClipPlan]) -> list[int]:
    """The sorted class ids a clip of these objects shows."""
    names = {f"{_appearance(p)}_{_motion(p)}" for p in plans}
    return sorted(CLASSES.index(name) for name in names)


def _appearance(plan: synthetic.ClipPlan) -> str:
    return next(a for a, (_, shape) in APPEARANCES.items() if shape == plan.shape)


def _motion(plan: synthetic.ClipPlan) -> str:
    return next(m for m, d in MOTIONS.items() if d == plan.direction)


def render_objects(plans: list[synthetic.ClipPlan]) -> np.ndarray:
    """Draw the objects on the first one's background: (T, H, W, 3) uint8 RGB frames."""
    first = plans[0]
    frames = np.repeat(first.background[None], len(first.x), axis=0)  # (T, H, W, 3)
    for p in plans:  # later objects in front, as the motion set paints its shape over its ring
        cover = synthetic._coverage(p.size, p.shape, p.x, p.y, p.angle, p.radius)[..., None]
        frames = frames * (1 - cover) + p.colour * cover  # (T, H, W, 3)
    frames += np.random.default_rng(first.noise_seed).normal(0, synthetic.NOISE, frames.shape)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


def generate_clip(seed: int, num_frames: int = 32, size: int = 64) -> tuple[np.ndarray, list[int]]:
    """Clip `seed`: its frames (T, H, W, 3) uint8 and its sorted class ids."""
    plans = plan_objects(seed, num_frames, size)
    return render_objects(plans), labels_of(plans)


def clip_seed(seed: int, split: str, index: int) -> int:
    """The `generate_clip` seed of video `index` in `split` of dataset `seed`."""
    split_code = {"train": 0, "val": 1}[split]
    return int(np.random.SeedSequence([seed, split_code, 7, index]).generate_state(1)[0])


def _write_one(job: tuple[str, int, int, int]) -> None:
    path, seed, num_frames, size = job
    write_video(path, generate_clip(seed, num_frames, size)[0])


def write_dataset(out_dir: str | os.PathLike, videos_train: int = 360, videos_val: int = 120,
                  num_frames: int = 32, size: int = 64, seed: int = 0, workers: int = 1,
                  progress: bool = True) -> dict[str, int]:
    """Write the multi-label set to `out_dir`; return the number of videos per split.

    Layout: `train/NNNN.mp4`, `val/NNNN.mp4`, `train.csv` and `val.csv` (`path labels` per line,
    labels comma-separated class ids), `classnames.json`. The lists are written last, so a folder
    with a `train.csv` holds a complete set.
    """
    if videos_train < 0 or videos_val < 0:
        raise ValueError("the numbers of videos cannot be negative")
    synthetic.plan_clip(0, 0, num_frames, size)  # checks the arguments before anything is written
    out = Path(out_dir)
    jobs, lists = [], {}
    for split, count in (("train", videos_train), ("val", videos_val)):
        (out / split).mkdir(parents=True, exist_ok=True)
        lists[split] = []
        for i in range(count):
            s = clip_seed(seed, split, i)
            relative = f"{split}/{i:04d}.mp4"
            labels = labels_of(plan_objects(s, num_frames, size))
            lists[split].append(f"{relative} {','.join(map(str, labels))}\n")
            jobs.append((str(out / relative), s, num_frames, size))
    write_videos(_write_one, jobs, workers, "multi-label videos", progress)
    (out / "classnames.json").write_text(json.dumps(CLASSES, indent=1) + "\n", encoding="utf-8")
    for split, lines in reversed(lists.items()):  # train.csv, the one that says "complete", last
        (out / f"{split}.csv").write_text("".join(lines), encoding="utf-8")
    return {split: len(lines) for split, lines in lists.items()}
