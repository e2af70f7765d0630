"""Pictures of what the network looked at: heat-map overlays, frame grids in time, GIF and MP4.

Frames come back from the network's normalised input with `denormalize`; a map in [0, 1] is
colour-mapped ('jet' by default, as PySlowFast; 'inferno' reads better in print) and blended with
the frame at alpha 0.5.

The two pathways see different frames of the same clip: the Slow clip keeps frames
`linspace(0, T_fast - 1, T_slow)` of the Fast clip (`pack_pathways`). Every picture here puts them
on one timeline, the Fast frames': in a grid, Slow frame i sits in the column of Fast frame
`linspace(0, T_fast - 1, T_slow)[i]`; in an animation, each Fast frame is shown beside the Slow
frame nearest to it in time. Times are in seconds: frame i of a clip sampled every `sampling_rate` frames
of a `fps` video is at i * sampling_rate / fps (or pass the source frames' own times).
"""

from __future__ import annotations

import fractions
import os
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure

from ..data.transforms import denormalize

ArrayLike = np.ndarray | torch.Tensor


def to_frames(clip: torch.Tensor) -> np.ndarray:
    """A normalised clip back to pixels: (3, T, H, W) float -> (T, H, W, 3) uint8."""
    return denormalize(clip.detach().float().cpu()).numpy()


def colorize(values: ArrayLike, cmap: str = "jet") -> np.ndarray:
    """Values in [0, 1], any shape (...), to colours (..., 3) uint8."""
    values = np.clip(np.asarray(_numpy(values), dtype=np.float64), 0, 1)
    rgba = matplotlib.colormaps[cmap](values)  # (..., 4) floats in [0, 1]
    return np.round(rgba[..., :3] * 255).astype(np.uint8)


def overlay(frames: ArrayLike, cam: ArrayLike, cmap: str = "jet", alpha: float = 0.5
            ) -> np.ndarray:
    """Blend a colour-mapped map over frames: (T, H, W, 3) uint8 + (T, H, W) -> (T, H, W, 3)."""
    frames = np.asarray(_numpy(frames))
    cam = np.asarray(_numpy(cam), dtype=np.float64)
    cam = cam.reshape(frames.shape[:-1])  # drops a leading (1,) channel axis
    mixed = (1 - alpha) * frames.astype(np.float64) + alpha * colorize(cam, cmap)
    return np.round(mixed).clip(0, 255).astype(np.uint8)


def pathway_overlays(clips: dict[str, torch.Tensor], cams: dict[str, torch.Tensor],
                     index: int = 0, cmap: str = "jet", alpha: float = 0.5
                     ) -> dict[str, np.ndarray]:
    """Overlays of clip `index` of a batch, per pathway: {"slow": (T, H, W, 3) uint8, ...}."""
    return {name: overlay(to_frames(clips[name][index]), cams[name][index, 0], cmap, alpha)
            for name in cams}


def slow_positions(t_slow: int, t_fast: int) -> np.ndarray:
    """The Fast frame each Slow frame is (pack_pathways' choice): (T_slow,) indices."""
    return torch.linspace(0, t_fast - 1, t_slow).long().numpy()


def timeline(lengths: dict[str, int]) -> dict[str, np.ndarray]:
    """Where each pathway's frames sit on the finest pathway's timeline: {name: (T_p,)}."""
    longest = max(lengths.values())
    return {name: np.arange(n) if n == longest else slow_positions(n, longest)
            for name, n in lengths.items()}


def frame_times(num_frames: int, fps: float = 30.0, sampling_rate: int = 1) -> np.ndarray:
    """Seconds of each frame of a clip taking every `sampling_rate`-th frame at `fps`: (T,)."""
    return np.arange(num_frames) * sampling_rate / fps


def nearest_frames(positions: np.ndarray, num_steps: int) -> np.ndarray:
    """For each timeline step, the index of the frame at the nearest position: (num_steps,)."""
    return np.abs(np.arange(num_steps)[:, None] - positions[None, :]).argmin(axis=1)


def grid_figure(images: dict[str, np.ndarray], times: np.ndarray | None = None,
                title: str | None = None, cell_inches: float = 1.3) -> Figure:
    """One row per pathway, one column per step of the finest timeline, labelled with `times`."""
    positions = timeline({name: len(frames) for name, frames in images.items()})
    columns = max(len(frames) for frames in images.values())
    fig = Figure(figsize=(cell_inches * columns + 0.8, cell_inches * len(images) + 0.6),
                 layout="constrained")
    axes = np.asarray(fig.subplots(len(images), columns, squeeze=False))  # (rows, columns)
    for ax in axes.flat:
        ax.set_axis_off()
    for row, (name, frames) in enumerate(images.items()):
        for frame, column in zip(frames, positions[name]):
            ax = axes[row, column]
            ax.set_axis_on()
            ax.imshow(frame)
            ax.set_xticks([]), ax.set_yticks([])
            if times is not None:
                ax.set_title(f"{times[column]:.2f} s", fontsize=7)
        first = axes[row, positions[name][0]]
        first.set_ylabel(f"{name.capitalize()}\nT={len(frames)}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def side_by_side(images: dict[str, np.ndarray], gap: int = 4) -> np.ndarray:
    """Animation frames: each timeline step shows every pathway's nearest frame, left to right,
    (T_timeline, H, W_1 + gap + W_2, 3) uint8."""
    positions = timeline({name: len(frames) for name, frames in images.items()})
    steps = max(len(frames) for frames in images.values())
    height = max(frames.shape[1] for frames in images.values())
    columns = []
    for name, frames in images.items():
        shown = frames[nearest_frames(positions[name], steps)]  # (steps, h, w, 3)
        pad = height - shown.shape[1]
        columns.append(np.pad(shown, ((0, 0), (0, pad), (0, 0), (0, 0))))
        columns.append(np.full((steps, height, gap, 3), 255, np.uint8))
    return np.concatenate(columns[:-1], axis=2)


def repeat_pixels(frames: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (T, H, W, 3) frames, for small clips."""
    return frames.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else frames


def save_gif(frames: np.ndarray, path: str | os.PathLike, fps: float = 6.0) -> Path:
    """Write (T, H, W, 3) uint8 frames as a looping GIF (PIL)."""
    from PIL import Image

    pictures = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:],
                     duration=round(1000 / fps), loop=0, optimize=False)
    return Path(path)


def save_mp4(frames: np.ndarray, path: str | os.PathLike, fps: float = 6.0) -> Path:
    """Write (T, H, W, 3) uint8 frames as an H.264 MP4 (PyAV; padded to an even size)."""
    import av

    t, h, w, _ = frames.shape
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # yuv420p
    rate = fractions.Fraction(fps).limit_denominator(1000)
    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = w + w % 2, h + h % 2, "yuv420p"
        for frame in frames:
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())  # flush the frames the encoder holds back
    return Path(path)


def _numpy(x: ArrayLike) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
