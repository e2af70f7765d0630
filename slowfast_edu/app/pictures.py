"""The app's pictures: frames and Grad-CAM of each pathway on one timeline, and an animation.

The same layout as `slowfast_edu.explain.grid_figure` (one row per pathway, one column per Fast
frame, each Slow frame in the column of the Fast frame it is), drawn straight into a numpy image
with PIL instead of matplotlib: about 50x faster, which matters for a web request. A clip of more
than `MAX_COLUMNS` Fast frames (the Kinetics models' 32) shows every Slow frame's column and
evenly spread Fast frames between them, each with its time, so the strip stays readable.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..explain.render import save_mp4, side_by_side, timeline

CELL = 96  # pixels per frame, whatever the model's crop
LABEL_WIDTH = 64  # left margin for the pathway names
TIME_HEIGHT = 18  # bottom margin for the time stamps
GAP = 2  # pixels between cells
MAX_COLUMNS = 16  # Fast frames shown in full; longer clips show a readable selection


def shown_columns(lengths: dict[str, int], most: int = MAX_COLUMNS) -> np.ndarray:
    """The timeline steps drawn as columns: all of them up to `most`, else `most` spread evenly
    plus every coarser pathway's (so each Slow frame keeps its column): (columns,) sorted."""
    longest = max(lengths.values())
    if longest <= most:
        return np.arange(longest)
    positions = timeline(lengths)
    keep = {int(i) for i in np.linspace(0, longest - 1, most).round()}
    for name, n in lengths.items():
        if n < longest:
            keep.update(int(i) for i in positions[name])
    return np.array(sorted(keep))


def resize_frames(frames: np.ndarray, height: int = CELL) -> np.ndarray:
    """(T, h, w, 3) uint8 -> (T, height, w * height / h, 3): nearest neighbour when enlarging
    (crisp pixels of a 64-pixel crop), area averaging when reducing."""
    t, h, w, _ = frames.shape
    if h == height:
        return frames
    width = max(1, round(w * height / h))
    method = Image.NEAREST if height > h else Image.BOX
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), method))
                     for f in frames])


def timeline_grid(rows: dict[str, np.ndarray], times: np.ndarray | None = None,
                  cell: int = CELL, most: int = MAX_COLUMNS) -> np.ndarray:
    """Pathways' frames on one timeline, {name: (T_p, h, w, 3)} -> an (H, W, 3) uint8 image
    with one row per pathway and the time in seconds under each column (`times`: (T_max,));
    of more than `most` steps, the `shown_columns` only."""
    lengths = {name: len(frames) for name, frames in rows.items()}
    positions = timeline(lengths)
    shown = shown_columns(lengths, most)  # (columns,) timeline steps
    column_of = {int(step): column for column, step in enumerate(shown)}
    cells = {name: resize_frames(frames, cell) for name, frames in rows.items()}
    width = max(frames.shape[2] for frames in cells.values())
    height = len(rows) * (cell + GAP)
    image = Image.new("RGB", (LABEL_WIDTH + len(shown) * (width + GAP), height + TIME_HEIGHT),
                      "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    if times is not None:
        for column, step in enumerate(shown):
            draw.text((LABEL_WIDTH + column * (width + GAP), height + 2),
                      f"{times[step]:.2f} s", fill="black", font=font)
    for row, (name, frames) in enumerate(cells.items()):
        top = row * (cell + GAP)
        drawn = sum(int(step) in column_of for step in positions[name])
        label = f"{name.capitalize()}\nT={len(frames)}" + (
            f"\n{drawn} shown" if drawn < len(frames) else "")
        draw.text((4, top + cell // 2 - 12), label, fill="black", font=font)
        for frame, step in zip(frames, positions[name]):
            if int(step) in column_of:
                image.paste(Image.fromarray(frame),
                            (LABEL_WIDTH + column_of[int(step)] * (width + GAP), top))
    return np.asarray(image)


def animation(images: dict[str, np.ndarray], path: str | os.PathLike, fps: float = 6.0,
              cell: int = 2 * CELL) -> Path:
    """An MP4 of the pathways side by side, each Fast frame beside the nearest Slow frame."""
    frames = side_by_side({name: resize_frames(f, cell) for name, f in images.items()})
    return save_mp4(frames, path, fps)  # (T_max, cell, W, 3) -> H.264
