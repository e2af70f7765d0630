"""The course's result figures: training curves, confusion matrices, the ablation against Table 5,
a colour bar for Grad-CAM overlays. Plain `matplotlib.figure.Figure`s (no pyplot), every axis
labelled, shared axes wherever panels are compared."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

FAMILY_TITLES = {"fusion": "(a) fusion", "beta": "(b) channel ratio beta",
                 "fast input": "(c) Fast pathway input", "alpha": "speed ratio alpha (ours)"}


def training_curves(runs: dict[str, list[dict]]) -> Figure:
    """Loss and top-1 against the step for each run's `metrics.csv` rows: training top-1 as a line
    (running, over the last 10 steps), validation top-1 as a marker at the step it was measured."""
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2, sharex=True)
    last = 0
    for (name, rows), colour in zip(runs.items(), ("tab:purple", "tab:blue", "tab:orange",
                                                   "tab:green", "tab:red")):
        train = [r for r in rows if r["split"] == "train"]
        val = [r for r in rows if r["split"] == "val"]
        steps = [int(r["step"]) for r in train]
        last = max([last, *steps, *(int(r["step"]) for r in val)])
        ax_loss.plot(steps, [float(r["loss"]) for r in train], color=colour, label=name)
        ax_acc.plot(steps, [100 * float(r["top1"]) for r in train], color=colour, alpha=0.6,
                    label=f"{name}, training (running)")
        for r in val:
            value = 100 * float(r["top1"])
            ax_acc.plot(int(r["step"]), value, "o", color=colour, markersize=8,
                        markeredgecolor="black")
            ax_acc.annotate(f"{value:.1f}%", (int(r["step"]), value), xytext=(-36, 4),
                            textcoords="offset points", fontsize=8, color=colour)
    ax_loss.set(title="training loss", xlabel="optimizer step", ylabel="cross-entropy",
                xlim=(0, last * 1.02 + 1))
    ax_acc.set(title="top-1: training (lines), validation (dots)", xlabel="optimizer step",
               ylabel="top-1 (%)", ylim=(0, 103))
    ax_loss.legend(fontsize=8)
    ax_acc.legend(fontsize=7, loc="lower right")
    return fig


def confusion_figure(confusions: dict[str, np.ndarray], classnames: Sequence[str],
                     titles: dict[str, str] | None = None) -> Figure:
    """One confusion matrix per model (rows: true class, columns: predicted), counts written in
    each cell, one shared colour scale and colour bar."""
    names = [n.replace("_moving", "") for n in classnames]
    matrices = {k: np.asarray(v, dtype=float) for k, v in confusions.items()}
    top = max(m.max() for m in matrices.values()) or 1.0
    fig = Figure(figsize=(4.3 * len(matrices) + 1.2, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(matrices), sharey=True))
    for ax, (key, m) in zip(axes, matrices.items()):
        image = ax.imshow(m, cmap="Blues", vmin=0, vmax=top)
        for i, j in np.ndindex(*m.shape):
            if m[i, j]:
                ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] > top / 2 else "black")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_xlabel("predicted class")
        ax.set_title((titles or {}).get(key, key), fontsize=9)
    axes[0].set_ylabel("true class")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="validation clips")
    return fig


def ablation_figure(results: list[dict], title: str = "synthetic motion set, slowfast_tiny"
                    ) -> Figure:
    """GFLOPs against top-1 for each part of Table 5: our runs on top, the paper's below (only
    where the paper has that part). Each row shares one y axis, and both rows span the same
    number of points, so a spread of 2 points looks like 2 points in both; the default SlowFast
    is the black star every variant changes one thing of; variants are told apart by a legend."""
    from ..train.ablation import FAMILIES, VARIANTS

    families = [f for f in FAMILIES if any(r["family"] == f for r in results)]
    default = next((r for r in results if r["name"] == VARIANTS[0].name), None)
    in_paper = {f: any(r["paper_top1"] is not None for r in results if r["family"] == f)
                for f in families}
    ours = [100 * r["val_top1"] for r in results if r["val_top1"] is not None]
    paper = [r["paper_top1"] for r in results if r["paper_top1"] is not None]
    span = max(np.ptp(ours) if ours else 0, np.ptp(paper) if paper else 0) + 8

    def limits(values: list[float]) -> tuple[float, float]:
        middle = (max(values) + min(values)) / 2 if values else 50
        return middle - span / 2, middle + span / 2

    fig = Figure(figsize=(3.9 * len(families), 7.2), layout="constrained")
    grid = fig.add_gridspec(2, len(families))
    axes_ours, axes_paper = [], []
    markers = "o^sDvP<>X"
    for column, family in enumerate(families):
        chosen = [r for r in results if r["family"] == family and r is not default]
        panels = [("ours", "val_top1", "gflops", 100, 0)]
        if in_paper[family]:
            panels.append(("paper", "paper_top1", "paper_gflops", 1, 1))
        for label, top1, gflops, scale, row in panels:
            share = (axes_ours if row == 0 else axes_paper)
            ax = fig.add_subplot(grid[row, column], sharey=share[0] if share else None)
            share.append(ax)
            if default is not None and default[top1] is not None:
                ax.scatter(default[gflops], scale * default[top1], marker="*", s=160,
                           color="black", label="default SlowFast", zorder=3)
            for r, marker in zip(chosen, markers):
                if r[top1] is not None:
                    ax.scatter(r[gflops], scale * r[top1], marker=marker, s=45, label=r["name"])
            ax.set_title(f"{FAMILY_TITLES.get(family, family)}: "
                         f"{'ours' if row == 0 else 'the paper, Table 5'}", fontsize=9)
            ax.set_xlabel("GFLOPs per view" + (" (48 px)" if row == 0 else " (256 px, 4x16 R50)"))
            ax.set_ylabel("val top-1 (%)" if row == 0 else "Kinetics-400 top-1 (%)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6.5, loc="best")
    if axes_ours:
        axes_ours[0].set_ylim(*limits(ours))
    if axes_paper:
        axes_paper[0].set_ylim(*limits(paper))
    fig.suptitle(f"ours ({title}) and the paper's (SlowFast 4x16 R50, Kinetics-400); both rows "
                 f"span {span:.0f} points", fontsize=10)
    return fig


def add_colorbar(fig: Figure, cmap: str = "jet", label: str = "Grad-CAM (0: none, 1: the "
                 "clip's strongest evidence)") -> Figure:
    """A colour bar for the overlays of a figure drawn with `cmap`; returns `fig`."""
    fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=fig.axes, shrink=0.7, label=label,
                 fraction=0.03, pad=0.01)
    return fig
