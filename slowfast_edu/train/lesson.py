"""The pathway lesson: SlowFast against Slow-only and Fast-only, with equal budgets, on a CPU.

The synthetic motion set's classes differ both in what the object is and in how it moves over a
few frames. The Slow pathway sees 4 frames spread over the clip: enough for appearance, too sparse
for the motion. The Fast pathway sees every frame but with 1/8 of the channels. Trained the same
number of steps on the same clips, SlowFast should beat both, and Slow-only by a wide margin.

    slowfast-edu lesson pathways --out runs/lesson
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from .config import load_config
from .engine import Trainer

REPO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "synthetic_tiny_cpu.yaml"
MODELS = {"slowfast": "slowfast_tiny", "slow_only": "slow_tiny", "fast_only": "fast_tiny"}


def lesson_config(data_dir: Path, overrides: list[str] | None = None,
                  config_path: Path | None = None) -> dict:
    """The synthetic CPU config pointed at `data_dir` (made by `slowfast-edu data synthetic`)."""
    config = load_config(config_path or REPO_CONFIG, overrides)
    config["data"].update(train=str(data_dir / "train.csv"), val=str(data_dir / "val.csv"),
                          classnames=str(data_dir / "classnames.json"))
    return config


def run_pathways_lesson(out: str | Path, data_dir: str | Path | None = None,
                        overrides: list[str] | None = None, progress: bool = True,
                        config_path: Path | None = None) -> dict:
    """Train the three tiny models with the same config and budget; write results.json, a table
    (results.md) and a plot (results.png) in `out`; return the results."""
    from ..data.synthetic import write_dataset

    out = Path(out)
    data_dir = Path(data_dir) if data_dir else out / "data"
    if not (data_dir / "train.csv").exists():  # the set configs/synthetic_tiny_cpu.yaml expects
        write_dataset(data_dir, videos_per_class_train=40, videos_per_class_val=20,
                      num_frames=64, size=48, progress=progress)
    base = lesson_config(data_dir, overrides, config_path)
    results = {}
    for key, name in MODELS.items():
        config = copy.deepcopy(base)
        config["model"]["name"] = name
        trainer = Trainer(config, out / key, device="cpu", progress=progress)
        r = trainer.fit()
        results[key] = {"model": name, "val_top1": r.get("val_top1"),
                        "val_top5": r.get("val_top5"), "minutes": r["minutes"],
                        "steps": r["steps"]}
        if progress:
            print(f"{key:10s} val top-1 {100 * (r.get('val_top1') or 0):5.1f}%  "
                  f"({r['minutes']:.1f} min)")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(results_table(results))
    plot_results(results, out / "results.png")
    return results


def results_table(results: dict) -> str:
    """A Markdown table of the lesson's results."""
    lines = ["| model | preset | val top-1 | minutes | steps |", "|---|---|---|---|---|"]
    for key, r in results.items():
        lines.append(f"| {key} | {r['model']} | {100 * (r['val_top1'] or 0):.1f}% | "
                     f"{r['minutes']:.2f} | {r['steps']} |")
    return "\n".join(lines) + "\n"


def plot_results(results: dict, path: Path) -> Path:
    """A bar chart of validation top-1 per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    names = list(results)
    values = [100 * (results[k]["val_top1"] or 0) for k in names]
    bars = ax.bar(names, values, color=["tab:purple", "tab:blue", "tab:orange"][: len(names)])
    ax.bar_label(bars, fmt="%.1f%%")
    ax.set(ylabel="val top-1 (%)", ylim=(0, 105), title="same budget, synthetic motion set")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
