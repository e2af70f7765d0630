"""The "before SlowFast" lesson: the networks the paper argues against, equal budgets, on a CPU.

C2D, I3D, Slow-only, two-stream and SlowFast (their teaching sizes, `models/baselines.py`) train
with the pathway lesson's recipe (`configs/synthetic_tiny_cpu.yaml`, here `EPOCHS` epochs) on the
same decoded clips of the synthetic motion set, whose classes are a shape and a direction. What
each network can see decides what it can learn:

- C2D has no temporal kernel: it looks at each frame alone and only pools over time, and pooling
  forgets order, so it can name the shape but not the direction (about 50% on direction, chance);
- I3D has inflated 3D kernels at full width on 8 frames: it sees motion, at the highest cost;
- Slow-only sees 4 frames spread over the clip, too few for the motion;
- two-stream adds a thin motion stream on frame differences, fused only at the class scores;
- SlowFast adds lateral connections from the Fast pathway at every stage.

    slowfast-edu lesson baselines --out runs/baselines [--check]

`results.json` holds each model's val top-1, its accuracy on the direction and on the shape alone
(from the confusion matrix), parameters, GFLOPs per clip (torch's FLOP counter, `count_flops`) and
minutes; `results.md` the table; `accuracy_vs_gflops.png` the two-panel figure in the style of the
paper's Figure 2: this run, and the paper's Kinetics-400 numbers (`PAPER_KINETICS`, each value with
its source); `run.json` where and when it ran (`lesson.run_info`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from ..data.synthetic import MOTIONS
from ..models import count_flops, count_params, example_inputs
from .datasets import loader, prepare_data
from .engine import datasets_from_config
from .evaluation import evaluate
from .lesson import Goals, lesson_config, phase_minutes, run_info, save_run, train_models

MODELS = {"c2d": "c2d_tiny", "i3d": "i3d_tiny", "slow_only": "slow_tiny",
          "two_stream": "two_stream_tiny", "slowfast": "slowfast_tiny"}
EPOCHS = 12  # the pathway lesson's recipe, 4 epochs shorter: five models in the time budget
# the lesson's goals (issue 16), for a full run on 2 CPU cores
GOAL_SLOWFAST, GOAL_CHANCE_MARGIN, GOAL_MINUTES, GOAL_CORES = 0.95, 0.10, 8.0, 2

TABLE_2 = "the paper, Table 2"
ZOO = "top-1: PyTorchVideo model zoo checkpoint; GFLOPs: our count at 256 (= PyTorchVideo's model)"
# (model, GFLOPs per view at 256, Kinetics-400 top-1 %, where the two numbers come from); the
# paper's Figure 2 plots Table 2 like this (its other points are other papers' models)
PAPER_KINETICS = [
    ("SlowFast 4x16 R50", 36.1, 75.6, TABLE_2),
    ("SlowFast 8x8 R50", 65.7, 77.0, TABLE_2),
    ("SlowFast 8x8 R101", 106.0, 77.9, TABLE_2),
    ("SlowFast 16x8 R101", 213.0, 78.9, TABLE_2),
    ("SlowFast 16x8 R101+NL", 234.0, 79.8, TABLE_2),
    ("Slow-only 4x16 R50", 27.26, 72.6, "top-1: the paper, Table 5a; GFLOPs: our count at 256"),
    ("C2D 8x8 R50", 25.46, 71.46, ZOO),
    ("I3D 8x8 R50", 37.10, 73.27, ZOO),
]


def run_baselines_lesson(out: str | Path, data_dir: str | Path | None = None,
                         overrides: list[str] | None = None, progress: bool = True,
                         models: dict[str, str] | None = None) -> dict:
    """Train the five tiny models with the same config and budget on the same clips; write
    results.json, results.md, accuracy_vs_gflops.png and run.json in `out`; return the results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start, load_before = time.perf_counter(), os.getloadavg()
    data_dir = Path(data_dir) if data_dir else out / "data"
    base = lesson_config(data_dir, [f"train.epochs={EPOCHS}", f"train.eval_every={EPOCHS}",
                                    *(overrides or [])])
    prepare_data(base, progress)
    data_done = time.perf_counter()
    datasets = datasets_from_config(base, progress)  # decoded once, shared by the five
    decode_done = time.perf_counter()
    results, trainers = train_models(base, models or MODELS, out, datasets, progress)
    for key, trainer in trainers.items():
        results[key].update(measure(trainer))
    run = run_info(base, load_before, phase_minutes(start, data_done, decode_done))
    save_run(out, results, run)
    (out / "results.md").write_text(baselines_table(results))
    plot_accuracy_vs_gflops(results, out / "accuracy_vs_gflops.png")
    return results


def measure(trainer) -> dict:
    """A trained model's parameters, GFLOPs per clip, and its val accuracy on direction and shape
    alone (from the confusion matrix of the single-view validation)."""
    model, cfg = trainer.model, trainer.model.cfg
    model.eval()
    gflops = count_flops(model, example_inputs(cfg, cfg.crop_size))
    scores = evaluate(model, loader(trainer.val_set, trainer.config["data"], 16), cfg.num_classes,
                      torch.device("cpu"), progress=False)
    return {"params": count_params(model), "gflops": round(gflops, 4),
            **split_accuracy(scores["confusion"])}


def split_accuracy(confusion: torch.Tensor) -> dict:
    """Accuracy on the direction alone and on the shape alone, from a (true, predicted) confusion
    matrix of the motion set's classes (class id = shape x 2 + direction)."""
    true, predicted = torch.meshgrid(torch.arange(len(confusion)), torch.arange(len(confusion)),
                                     indexing="ij")
    total = confusion.sum().clamp(min=1).item()
    moves = len(MOTIONS)
    same_direction = confusion[true % moves == predicted % moves].sum().item()
    same_shape = confusion[true // moves == predicted // moves].sum().item()
    return {"direction": same_direction / total, "shape": same_shape / total}


def baselines_table(results: dict) -> str:
    """A Markdown table of the lesson's results."""
    lines = ["| model | preset | val top-1 | direction | shape | parameters | GFLOPs | minutes "
             "| steps |", "|---|---|---|---|---|---|---|---|---|"]
    for key, r in results.items():
        lines.append(f"| {key} | {r['model']} | {100 * (r['val_top1'] or 0):.1f}% | "
                     f"{100 * r['direction']:.1f}% | {100 * r['shape']:.1f}% | "
                     f"{r['params']:,} | {r['gflops']:.3f} | {r['minutes']:.2f} | {r['steps']} |")
    return "\n".join(lines) + "\n"


def plot_accuracy_vs_gflops(results: dict, path: Path) -> Path:
    """Two panels in the style of the paper's Figure 2: accuracy against GFLOPs for this run and
    for the paper's Kinetics-400 models (`PAPER_KINETICS`)."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    fig = Figure(figsize=(11, 4.2))
    ours, paper = fig.subplots(1, 2)
    colours = {"c2d": "tab:gray", "i3d": "tab:green", "slow_only": "tab:blue",
               "two_stream": "tab:orange", "slowfast": "tab:purple"}
    for key, r in results.items():  # named in the legend: points at equal cost never collide
        ours.scatter(r["gflops"], 100 * (r["val_top1"] or 0), s=60, zorder=3,
                     color=colours.get(key, "black"),
                     label=f"{key}: {100 * (r['val_top1'] or 0):.1f}%")
    ours.axhline(50, color="gray", lw=0.8, ls=":")
    ours.text(0.99, 50.5, "the shape right, the direction at chance ", fontsize=7, color="gray",
              transform=ours.get_yaxis_transform(), ha="right", va="bottom")
    ours.set(title="this lesson: synthetic motion set, equal budgets", xlabel="GFLOPs per clip "
             "(torch's FLOP counter)", ylabel="val top-1 (%)", ylim=(0, 105))
    ours.legend(fontsize=7, loc="lower right", title="val top-1", title_fontsize=7)
    slowfast = [p for p in PAPER_KINETICS if p[0].startswith("SlowFast")]
    paper.plot([p[1] for p in slowfast], [p[2] for p in slowfast], "o-", color="tab:purple",
               label="SlowFast (the paper, Table 2)")
    for name, gflops, top1, source in PAPER_KINETICS:
        hollow = source == ZOO
        if not name.startswith("SlowFast"):
            paper.scatter(gflops, top1, s=50, facecolors="none" if hollow else "tab:blue",
                          edgecolors="tab:green" if hollow else "tab:blue", zorder=3)
        paper.annotate(name, (gflops, top1), textcoords="offset points", xytext=(5, -9),
                       fontsize=7)
    paper.scatter([], [], color="tab:blue", label="Slow-only (Table 5a)")
    paper.scatter([], [], facecolors="none", edgecolors="tab:green",
                  label="C2D, I3D (PyTorchVideo zoo checkpoints)")
    paper.set(title="Kinetics-400, 10 x 3 views", xlabel="GFLOPs per view at 256",
              ylabel="top-1 (%)", xlim=(0, 260), ylim=(70, 81))
    paper.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def check_baselines_lesson(results: dict, run: dict) -> tuple[list[str], list[str]]:
    """(goals met, goals missed) of a run (`results.json`, `run.json`), one line each; the time
    goal counts only for a run on 2 cores that started on a quiet machine."""
    goals = Goals()
    goals.check(list(results) == list(MODELS), f"the five models trained: {', '.join(results)}")
    goals.equal_budgets(results)
    c2d = results.get("c2d", {}).get("direction", 1.0)
    goals.check(abs(c2d - 0.5) <= GOAL_CHANCE_MARGIN,
                f"C2D's direction accuracy {100 * c2d:.1f}% (goal: chance, 50 +- "
                f"{100 * GOAL_CHANCE_MARGIN:.0f}%)")
    slowfast = results.get("slowfast", {}).get("val_top1") or 0.0
    goals.check(slowfast > GOAL_SLOWFAST, f"SlowFast val top-1 {100 * slowfast:.1f}% (goal > "
                                          f"{100 * GOAL_SLOWFAST:.0f}%)")
    goals.in_time(run["minutes"]["total"], "for the whole lesson", GOAL_MINUTES, run, GOAL_CORES)
    return goals.met, goals.missed
