"""Training curves: loss, learning rate, and top-1/top-5, from the rows of metrics.csv."""

from __future__ import annotations

from pathlib import Path


def plot_curves(rows: list[dict], path: str | Path) -> Path | None:
    """Save a three-panel figure of a run; nothing to draw yet returns None."""
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "val"]
    if not train and not val:
        return None
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    fig = Figure(figsize=(13, 3.5))
    ax_loss, ax_lr, ax_acc = fig.subplots(1, 3)
    steps = [r["step"] for r in train]
    ax_loss.plot(steps, [r["loss"] for r in train])
    ax_loss.set(title="training loss", xlabel="step")
    ax_lr.plot(steps, [r["lr"] for r in train])
    ax_lr.set(title="learning rate", xlabel="step")
    ax_acc.plot(steps, [r["top1"] for r in train], label="train top-1 (running)", alpha=0.6)
    if val:
        vsteps = [r["step"] for r in val]
        for key, style, label in (("top1", "o-", "val top-1"), ("top5", "s--", "val top-5"),
                                  ("map", "^-", "val frame mAP"),  # detection: no top-5
                                  ("mAP", "d-", "val mAP")):  # multi-label (train/multilabel.py)
            if all(r.get(key) not in (None, "") for r in val):
                ax_acc.plot(vsteps, [r[key] for r in val], style, label=label)
    ax_acc.set(title="accuracy", xlabel="step", ylim=(0, 1.02))
    ax_acc.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return Path(path)
