"""Pictures of the sampling, and a widget to move tau and alpha and watch the frames change.

`sampling_figure(T, tau, alpha, frames)` draws one view's window on a time line: every source frame
as a tick, the Fast pathway's alpha*T frames (one every tau/alpha) and the Slow pathway's T (one
every tau, taken from the Fast ones as `pack_pathways` does), and, given the decoded video, the
Slow frames as pictures. `frame_grid` shows a clip's Fast frames large enough to see, eight to a
row, the Slow ones framed. `widgets.sampling_explorer(frames, fps)` puts sliders on the first.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from matplotlib.figure import Figure

SLOW, FAST = "#4C72B0", "#DD8452"


def view_frames(T: int, tau: int, alpha: int, start: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(Fast, Slow) source frame indices of a view from `start` on a 30 fps video, as PySlowFast
    samples them: alpha*T Fast frames by linspace over T*tau frames, then T of those."""
    if alpha < 1 or T < 1 or tau < 1:
        raise ValueError(f"T, tau and alpha must be positive, got T={T}, tau={tau}, "
                         f"alpha={alpha}")
    fast = torch.linspace(start, start + T * tau - 1, alpha * T).long()  # (alpha*T,)
    slow = fast[torch.linspace(0, alpha * T - 1, T).long()]  # (T,)
    return fast, slow


def sampling_figure(T: int, tau: int, alpha: int, frames: np.ndarray | None = None,
                    fps: float = 30.0, start: int = 0, max_pictures: int = 8) -> Figure:
    """One view on a time line (and, with `frames` (N, H, W, 3), pictures of its Slow frames)."""
    fast, slow = view_frames(T, tau, alpha, start)
    window = T * tau
    pictures = 0 if frames is None else min(T, max_pictures)
    fig = Figure(figsize=(10, 2.3 + (1.5 if pictures else 0)), layout="constrained")
    grid = fig.add_gridspec(2 if pictures else 1, max(pictures, 1),
                            height_ratios=[1.3, 1.5] if pictures else [1])
    ax = fig.add_subplot(grid[0, :])
    ax.scatter(np.arange(start, start + window), np.full(window, 0.0), marker="|", s=40,
               color="lightgray", label=f"source frames ({window} = T x tau)")
    ax.scatter(fast, np.full(len(fast), 1.0), marker="o", s=18, color=FAST,
               label=f"Fast: alpha x T = {alpha * T} frames, every {tau / alpha:g}")
    ax.scatter(slow, np.full(len(slow), 2.0), marker="s", s=40, color=SLOW,
               label=f"Slow: T = {T} frames, every {tau} on average")
    ax.set_yticks([0, 1, 2], ["video", "Fast", "Slow"])
    ax.set_ylim(-0.6, 2.6)
    seconds = ax.secondary_xaxis("top", functions=(lambda f: f / fps, lambda s: s * fps))
    seconds.set_xlabel(f"seconds at {fps:g} fps", fontsize=8)
    ax.set_xlabel("source frame")
    ax.set_xlim(start - 1, start + window)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    ax.set_title(f"T={T}, tau={tau}, alpha={alpha}: a window of {window} frames = "
                 f"{window / fps:.2f} s", fontsize=9)
    shown = np.linspace(0, T - 1, pictures).round().astype(int) if pictures else []
    for i, which in enumerate(shown):  # every Slow frame, or `max_pictures` spread over them
        picture = fig.add_subplot(grid[1, i])
        index = int(slow[which])
        picture.imshow(frames[min(index, len(frames) - 1)])
        picture.set_title(f"Slow: frame {index}\n{index / fps:.2f} s", fontsize=7)
        picture.set_axis_off()
    return fig


def frame_grid(frames: np.ndarray, times: np.ndarray, slow: np.ndarray | list[int],
               columns: int = 8, inches: float = 1.15, title: str | None = None) -> Figure:
    """A clip's frames (T, H, W, 3), `columns` to a row, each with its time; the frames at
    positions `slow` framed in the Slow pathway's colour."""
    rows = -(-len(frames) // columns)
    fig = Figure(figsize=(inches * columns, inches * rows + 0.5), layout="constrained")
    axes = np.asarray(fig.subplots(rows, columns, squeeze=False))
    slow = set(int(i) for i in slow)
    for i, ax in enumerate(axes.flat):
        if i >= len(frames):
            ax.set_axis_off()
            continue
        ax.imshow(frames[i])
        ax.set_xticks([]), ax.set_yticks([])
        chosen = i in slow
        for spine in ax.spines.values():
            spine.set_edgecolor(SLOW if chosen else "white")
            spine.set_linewidth(3 if chosen else 0.5)
        ax.set_title(f"{'Slow + ' if chosen else ''}Fast {i}\n{times[i]:.2f} s", fontsize=7,
                     color=SLOW if chosen else "black")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes (for an ipywidgets.Image)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
