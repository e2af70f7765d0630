"""The app's pictures: frames and Grad-CAM of each pathway on one timeline, and an animation.

The same layout as `slowfast_edu.explain.grid_figure` (one row per pathway, one column per Fast
frame, each Slow frame in the column of the Fast frame it is), drawn straight into a numpy image
with PIL instead of matplotlib: about 50x faster, which matters for a web request.
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
                  cell: int = CELL) -> np.ndarray:
    """Pathways' frames on one timeline, {name: (T_p, h, w, 3)} -> an (H, W, 3) uint8 image
    with one row per pathway and the time in seconds under each column (`times`: (T_max,))."""
    positions = timeline({name: len(frames) for name, frames in rows.items()})
    columns = max(len(frames) for frames in rows.values())
    cells = {name: resize_frames(frames, cell) for name, frames in rows.items()}
    width = max(frames.shape[2] for frames in cells.values())
    height = len(rows) * (cell + GAP)
    image = Image.new("RGB", (LABEL_WIDTH + columns * (width + GAP), height + TIME_HEIGHT),
                      "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    if times is not None:
        for column in range(columns):
            draw.text((LABEL_WIDTH + column * (width + GAP), height + 2),
                      f"{times[column]:.2f} s", fill="black", font=font)
    for row, (name, frames) in enumerate(cells.items()):
        top = row * (cell + GAP)
        draw.text((4, top + cell // 2 - 12), f"{name.capitalize()}\nT={len(frames)}",
                  fill="black", font=font)
        for frame, column in zip(frames, positions[name]):
            image.paste(Image.fromarray(frame), (LABEL_WIDTH + int(column) * (width + GAP), top))
    return np.asarray(image)


def animation(images: dict[str, np.ndarray], path: str | os.PathLike, fps: float = 6.0,
              cell: int = 2 * CELL) -> Path:
    """An MP4 of the pathways side by side, each Fast frame beside the nearest Slow frame."""
    frames = side_by_side({name: resize_frames(f, cell) for name, f in images.items()})
    return save_mp4(frames, path, fps)  # (T_max, cell, W, 3) -> H.264
