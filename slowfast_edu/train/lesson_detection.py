"""The detection lesson: SlowFast against Slow-only detectors, equal budgets, on a CPU.

The synthetic detection set (`data/synthetic_detection.py`) boxes 2-3 objects per key frame, each
moving left, moving right or staying still, so that the frames the Slow pathway sees show every
object at a random place whatever its action: only the Fast pathway, which sees every frame, can
tell the actions apart. Both teaching detectors (`slowfast_tiny_detection`, `slow_tiny_detection`)
are trained with the same config and the same number of steps, then scored as AVA is, by frame
mAP at IoU 0.5, on the ground-truth boxes of the val key frames (the task is the action, not
finding the objects).

    slowfast-edu lesson detection --out runs/lesson_detection [--check]

The clips are decoded once (`data.cache`) and shared by the two trainings. The run writes
`results.json` (frame mAP, per-class AP, minutes, CPU minutes, steps per model), `run.json` (when,
where, the load average before and after, minutes per phase), a table `results.md` and a plot
`results.png`; `make lesson-detection` copies them to docs/.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

from .config import CONFIG_DIR, load_config
from .detection import detection_datasets, prepare_detection_data
from .engine import Trainer
from .lesson import Goals, phase_minutes, run_info, save_run

LESSON_CONFIG = CONFIG_DIR / "synthetic_detection_tiny_cpu.yaml"
MODELS = {"slowfast": "slowfast_tiny_detection", "slow_only": "slow_tiny_detection"}
# the lesson's goals (issue 15), for a full run on 2 CPU cores
GOAL_MAP, GOAL_GAP, GOAL_MINUTES, GOAL_CORES = 0.9, 0.25, 10.0, 2


def detection_lesson_config(data_dir: Path, overrides: list[str] | None = None) -> dict:
    """The lesson's config with its data in `data_dir` (generated there when missing)."""
    config = load_config(LESSON_CONFIG, overrides)
    config["data"].update(train=str(data_dir / "train.csv"), val=str(data_dir / "val.csv"),
                          video_root=str(data_dir / "videos"),
                          classnames=str(data_dir / "label_map.pbtxt"))
    return config


def run_detection_lesson(out: str | Path, data_dir: str | Path | None = None,
                         overrides: list[str] | None = None, progress: bool = True) -> dict:
    """Train both detectors with the same config and budget; write results.json, run.json,
    results.md and results.png in `out`; return the results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start, load_before = time.perf_counter(), os.getloadavg()
    base = detection_lesson_config(Path(data_dir) if data_dir else out / "data", overrides)
    prepare_detection_data(base, progress)
    data_done = time.perf_counter()
    datasets = detection_datasets(base, progress)  # decoded once, used twice
    decode_done = time.perf_counter()
    results = {}
    for key, name in MODELS.items():
        config = copy.deepcopy(base)
        config["model"]["name"] = name
        cpu = time.process_time()
        r = Trainer(config, out / key, device="cpu", progress=progress, datasets=datasets).fit()
        results[key] = {"model": name, "frame_map": r.get("val_map"),
                        "per_class_ap": r.get("per_class_ap"), "minutes": r["minutes"],
                        "cpu_minutes": (time.process_time() - cpu) / 60, "steps": r["steps"]}
        if progress:
            print(f"{key:10s} frame mAP {100 * (r.get('val_map') or 0):5.1f}  "
                  f"({r['minutes']:.1f} min)")
    run = run_info(base, load_before, phase_minutes(start, data_done, decode_done))
    save_run(out, results, run)
    (out / "results.md").write_text(detection_table(results))
    plot_detection_results(results, out / "results.png")
    return results


def detection_table(results: dict) -> str:
    """A Markdown table: frame mAP and AP per action, per model."""
    actions = list(next(iter(results.values()))["per_class_ap"] or {})
    lines = ["| model | preset | frame mAP@0.5 | " + " | ".join(f"AP {a}" for a in actions)
             + " | minutes | steps |", "|---|---|---|" + "---|" * len(actions) + "---|---|"]
    for key, r in results.items():
        aps = " | ".join(f"{100 * (r['per_class_ap'] or {}).get(a, 0):.1f}" for a in actions)
        lines.append(f"| {key} | {r['model']} | {100 * (r['frame_map'] or 0):.1f} | {aps} | "
                     f"{r['minutes']:.2f} | {r['steps']} |")
    return "\n".join(lines) + "\n"


def plot_detection_results(results: dict, path: Path) -> Path:
    """Bars of AP per action and the frame mAP, one group per model."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.subplots()
    actions = list(next(iter(results.values()))["per_class_ap"] or {})
    groups = [*actions, "frame mAP"]
    width = 0.8 / len(results)
    for i, (key, r) in enumerate(results.items()):
        values = [100 * (r["per_class_ap"] or {}).get(a, 0) for a in actions]
        values.append(100 * (r["frame_map"] or 0))
        bars = ax.bar([g + i * width for g in range(len(groups))], values, width, label=key,
                      color=["tab:purple", "tab:blue"][i % 2])
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_xticks([g + width * (len(results) - 1) / 2 for g in range(len(groups))],
                  [g.replace("_", " ") for g in groups])
    ax.set(ylabel="AP at IoU 0.5 (%)", ylim=(0, 112),
           title="same budget, synthetic detection set (ground-truth boxes)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def check_detection_lesson(results: dict, run: dict) -> tuple[list[str], list[str]]:
    """(goals met, goals missed) of a detection lesson run; the time goal counts only for a run
    on 2 cores that started on a quiet machine."""
    goals = Goals()
    goals.check(list(results) == list(MODELS), f"both detectors trained: {', '.join(results)}")
    goals.equal_budgets(results)
    scores = {k: r["frame_map"] or 0.0 for k, r in results.items()}
    slowfast, slow = scores.get("slowfast", 0.0), scores.get("slow_only", 1.0)
    goals.check(slowfast >= GOAL_MAP, f"SlowFast frame mAP {100 * slowfast:.1f} (goal >= "
                                      f"{100 * GOAL_MAP:.0f})")
    goals.check(slowfast - slow >= GOAL_GAP,
                f"Slow-only {100 * slow:.1f}, {100 * (slowfast - slow):.1f} points below "
                f"SlowFast (goal >= {100 * GOAL_GAP:.0f})")
    goals.in_time(run["minutes"]["total"], "for the whole lesson", GOAL_MINUTES, run, GOAL_CORES)
    return goals.met, goals.missed
