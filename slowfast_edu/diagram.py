"""The paper's Figure 1, drawn from a built network: two pathways, their stages, the laterals.

`draw(model_or_name)` measures the network with `describe` (the kernels read from the modules, the
output of every stage recorded during one forward pass on the "meta" device, which costs nothing)
and draws what it found: one row per pathway, one box per stage with its output T x S^2 and
channels (taller = more channels, wider = more frames), and an arrow for each lateral connection
with its transformation. Nothing is typed in by hand, so another alpha, beta, fusion or depth
draws another picture:

    slowfast_edu.draw("slowfast_4x16_r50")                       # Table 1's network
    slowfast_edu.draw("slowfast_tiny", alpha=8, fusion="time_strided_sample")
    slowfast_edu.draw(model)                                     # any built SlowFast
    image = diagram_image(model)                                 # (H, W, 3) uint8, for the app
"""

from __future__ import annotations

import copy
import math
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .models import build_network, example_inputs, get_config
from .models.describe import describe

COLOURS = {"slow": "#4C72B0", "fast": "#DD8452", "lateral": "#55A868"}


@dataclass
class Stage:
    """A stage as measured: its name and, per pathway, (C, T, H, W) out (None: not there)."""

    name: str
    shapes: dict[str, tuple[int, ...] | None]
    kernels: dict[str, str]


@dataclass
class Lateral:
    """A lateral connection: after which stage, its transformation, the Slow channels after it."""

    after: str
    text: str
    slow_out: tuple[int, ...] | None


@dataclass
class Layout:
    """What `draw` draws, measured from one network."""

    title: str
    pathways: list[str]
    inputs: dict[str, tuple[int, ...]]  # (3, T, H, W) per pathway
    strides: dict[str, str]  # the frame stride of each pathway on the raw clip, in words
    stages: list[Stage]
    laterals: list[Lateral]
    head: str
    num_laterals: int  # lateral modules the model has (0 for a single pathway)


def measure(model_or_name: nn.Module | str, size: int | None = None, **overrides: Any) -> Layout:
    """The network's measured description, ready to draw (a preset name builds it with
    `overrides` on the meta device; a built model is measured on a meta copy)."""
    if isinstance(model_or_name, str):
        cfg = get_config(model_or_name, **overrides)
        with torch.device("meta"):
            model = build_network(cfg)
        label = model_or_name
    else:
        if overrides:
            raise TypeError("overrides apply to a preset name, not to a built model")
        model, label = model_or_name, type(model_or_name).__name__
        if any(p.device.type != "meta" for p in model.parameters()):
            model = copy.deepcopy(model).to("meta")  # shapes only; the caller's model untouched
        cfg = model.cfg
    size = size or cfg.crop_size
    rows = describe(model, example_inputs(cfg, size, device="meta"))
    pathways = [p for p in ("slow", "fast") if getattr(rows[0], f"{p}_out")]  # the raw clips
    stages, laterals, previous = [], [], None
    for row in rows[2:]:  # after the raw clip and the data layer
        if row.stage == "head":
            continue
        if row.stage.startswith("lateral"):  # each lateral row follows the stage it comes after
            text = row.slow.replace("Fast->Slow ", "")
            laterals.append(Lateral(previous, text, row.slow_out))
            continue
        stages.append(Stage(row.stage, {p: getattr(row, f"{p}_out") for p in pathways},
                            {p: getattr(row, p) for p in pathways}))
        previous = row.stage
    title = (f"{label}: T={cfg.slow_frames}, tau={cfg.tau}, alpha={cfg.alpha}, "
             f"beta=1/{cfg.beta_inv}, fusion={cfg.fusion}, input {size}x{size}")
    strides = {"slow": f"every {cfg.tau} (tau)",
               "fast": f"every {max(cfg.tau // cfg.alpha, 1)} (tau/alpha)"}
    return Layout(title, pathways, {p: getattr(rows[0], f"{p}_out") for p in pathways},
                  {p: strides[p] for p in pathways}, stages, laterals, rows[-1].slow,
                  len(getattr(model, "laterals", {}) or {}))


def _box(ax, x: float, y: float, w: float, h: float, colour: str, label: str, below: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01",
                                facecolor=colour, edgecolor="black", linewidth=0.8, alpha=0.85))
    ax.text(x, y, label, ha="center", va="center", fontsize=7.5, color="white", weight="bold")
    ax.text(x, y - h / 2 - 0.04, below, ha="center", va="top", fontsize=7)


def _size(shape: tuple[int, ...]) -> tuple[str, str]:
    c, t, h, w = shape
    return (f"{t}x{h}²" if h == w else f"{t}x{h}x{w}"), f"C={c}"


def draw(model_or_name: nn.Module | str, size: int | None = None, **overrides: Any):
    """Figure 1 of the paper for this network, measured: a `matplotlib.figure.Figure`."""
    from matplotlib.figure import Figure

    layout = measure(model_or_name, size, **overrides)
    rows = {p: y for p, y in zip(layout.pathways, (1.55, 0.0) if len(layout.pathways) == 2
                                 else (0.8,))}
    shapes = [s for stage in layout.stages for s in stage.shapes.values() if s]
    c_max = max(s[0] for s in shapes)
    t_max = max(s[1] for s in shapes)
    columns = ["input"] + [s.name for s in layout.stages] + ["head"]
    fig = Figure(figsize=(1.45 * len(columns) + 0.5, 4.6 if len(rows) == 2 else 2.9),
                 layout="constrained")
    ax = fig.subplots()

    def extent(shape: tuple[int, ...]) -> tuple[float, float]:
        c, t = shape[0], shape[1]
        width = 0.3 + 0.6 * t / t_max  # more frames: wider
        height = 0.18 + 0.5 * math.log2(1 + c) / math.log2(1 + c_max)  # more channels: taller
        return width, height

    for pathway, y in rows.items():
        colour = COLOURS[pathway]
        c, t, h, w = layout.inputs[pathway]
        ax.text(0, y, f"{pathway.capitalize()}\n{t} frames,\n{layout.strides[pathway]}\n"
                f"{h}x{w}", ha="center", va="center", fontsize=7.5, color=colour,
                weight="bold")
        right = 0.45  # where the arrow into the next box starts
        for i, stage in enumerate(layout.stages, start=1):
            shape = stage.shapes[pathway]
            if shape is None:
                continue
            width, height = extent(shape)
            frames, channels = _size(shape)
            _box(ax, i, y, width, height, colour, stage.name, f"{frames}\n{channels}")
            ax.annotate("", (i - width / 2, y), (right, y),
                        arrowprops=dict(arrowstyle="->", color="gray", lw=0.8))
            right = i + width / 2
        ax.annotate("", (len(columns) - 1 - 0.45, 0.8 if len(rows) == 2 else y), (right, y),
                    arrowprops=dict(arrowstyle="->", color="gray", lw=0.8))
    head_y = 0.8 if len(rows) == 2 else rows[layout.pathways[0]]
    ax.text(len(columns) - 1, head_y, layout.head.replace(", ", ",\n"), ha="center",
            va="center", fontsize=7, bbox=dict(boxstyle="round", facecolor="#EEEEEE"))
    index = {s.name: i for i, s in enumerate(layout.stages, start=1)}
    for lateral in layout.laterals:
        x = index[lateral.after] + 0.5
        ax.annotate("", (x, rows["slow"] - 0.22), (x - 0.25, rows["fast"] + 0.25),
                    arrowprops=dict(arrowstyle="-|>", color=COLOURS["lateral"], lw=1.6))
        joined = f"\n→ Slow C={lateral.slow_out[0]}" if lateral.slow_out else ""
        ax.text(x + 0.04, 0.78, textwrap.fill(lateral.text, 22) + joined, fontsize=6.2,
                ha="left", va="center", color="#2F6B3A")
    if len(rows) == 2 and not layout.laterals:
        ax.text(len(columns) / 2, 0.8, "no lateral connections: the two pathways meet only at "
                "the head", ha="center", va="center", fontsize=8, color="#2F6B3A")
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(-0.75 if len(rows) == 2 else 0.0, 2.2 if len(rows) == 2 else 1.5)
    ax.set_axis_off()
    ax.set_title(layout.title, fontsize=9)
    return fig


def diagram_image(model_or_name: nn.Module | str, size: int | None = None, dpi: int = 100,
                  **overrides: Any) -> np.ndarray:
    """`draw`'s picture as an (H, W, 3) uint8 array (for the app's model panel)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = draw(model_or_name, size, **overrides)
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
