"""The pathway lesson: SlowFast against Slow-only and Fast-only, with equal budgets, on a CPU.

The synthetic motion set's classes differ both in what the object is and in how it moves over a
few frames. The Slow pathway sees 4 frames spread over the clip: enough for appearance, too sparse
for the motion. The Fast pathway sees every frame but with 1/8 of the channels. Trained the same
number of steps on the same clips, SlowFast should beat both, and Slow-only by a wide margin.

    slowfast-edu lesson pathways --out runs/lesson [--check]

The synthetic set is the one the config's `data.synthetic` describes, generated in `OUT/data` on
first use (or pass an existing one as `--data`).

The clips are decoded once, into memory (`data.cache`), and shared by the three trainings: on a
2-core laptop decoding every clip at every step would cost more than the tiny models' steps.
Besides `results.json` (top-1 per model, minutes of training, CPU minutes), the run writes
`run.json`: when and where it ran, the machine's load average before it started (other programs
running slow the clock, not the accuracies), and the minutes spent on data, decoding and training.
`check_lesson` (`--check`, which `make lesson` uses before recording a run in docs/) says whether
the run met the lesson's goals.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import platform
import time
from pathlib import Path

import torch

from ..data.kinetics import KineticsDataset
from ..models import get_config
from .config import CONFIG_DIR, load_config
from .datasets import prepare_data
from .engine import Trainer, datasets_from_config

LESSON_CONFIG = CONFIG_DIR / "synthetic_tiny_cpu.yaml"  # the lesson's recipe (the ablations' too)
MODELS = {"slowfast": "slowfast_tiny", "slow_only": "slow_tiny", "fast_only": "fast_tiny"}
# the lesson's goals (issue 4), for a full run on 2 CPU cores
GOAL_TOP1, GOAL_GAP, GOAL_MINUTES, GOAL_CORES = 0.95, 0.15, 5.0, 2
QUIET_LOAD = 0.5  # a 1-minute load average under this before the run: its clock counts


def lesson_config(data_dir: Path, overrides: list[str] | None = None,
                  config_path: Path | None = None) -> dict:
    """The synthetic CPU config pointed at `data_dir` (made by `slowfast-edu data synthetic`)."""
    config = load_config(config_path or LESSON_CONFIG, overrides)
    config["data"].update(train=str(data_dir / "train.csv"), val=str(data_dir / "val.csv"),
                          classnames=str(data_dir / "classnames.json"))
    return config


def run_pathways_lesson(out: str | Path, data_dir: str | Path | None = None,
                        overrides: list[str] | None = None, progress: bool = True,
                        config_path: Path | None = None, models: dict[str, str] | None = None
                        ) -> dict:
    """Train the three tiny models with the same config and budget; write results.json, a table
    (results.md), a plot (results.png) and run.json in `out`; return the results.

    `models`: {key: preset} to train instead of `MODELS` (e.g. only {"slowfast": "slowfast_tiny"}).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start, load_before = time.perf_counter(), os.getloadavg()
    data_dir = Path(data_dir) if data_dir else out / "data"
    base = lesson_config(data_dir, overrides, config_path)
    prepare_data(base, progress)  # the config's synthetic set, generated when missing
    data_done = time.perf_counter()
    datasets = datasets_from_config(base, progress)  # decoded once (data.cache), used three times
    decode_done = time.perf_counter()
    results, _ = train_models(base, models or MODELS, out, datasets, progress)
    run = run_info(base, load_before, phase_minutes(start, data_done, decode_done))
    save_run(out, results, run)
    (out / "results.md").write_text(lesson_table(results))
    plot_results(results, out / "results.png")
    return results


def train_models(base: dict, models: dict[str, str], out: Path,
                 datasets: tuple[KineticsDataset, KineticsDataset | None], progress: bool = True
                 ) -> tuple[dict, dict[str, Trainer]]:
    """Train each of `models` ({key: preset}) with config `base` on the same decoded clips, in
    `out / key`; return ({key: results}, {key: its trainer})."""
    results, trainers = {}, {}
    for key, name in models.items():
        config = copy.deepcopy(base)
        config["model"]["name"] = name
        cpu = time.process_time()
        trainer = Trainer(config, out / key, device="cpu", progress=progress,
                          datasets=packed_for(datasets, get_config(name).alpha))
        r = trainer.fit()
        results[key] = {"model": name, "val_top1": r.get("val_top1"),
                        "val_top5": r.get("val_top5"), "minutes": r["minutes"],
                        "cpu_minutes": (time.process_time() - cpu) / 60, "steps": r["steps"]}
        trainers[key] = trainer
        if progress:
            print(f"{key:10s} val top-1 {100 * (r.get('val_top1') or 0):5.1f}%  "
                  f"({r['minutes']:.1f} min)")
    return results, trainers


def packed_for(datasets: tuple[KineticsDataset, KineticsDataset | None], alpha: int
               ) -> tuple[KineticsDataset, KineticsDataset | None]:
    """The same datasets (and decoded clips) giving Slow frames for another `alpha`: a model
    that takes 8 of the 16 frames (alpha=2) beside one that takes 4 (alpha=4)."""
    def packed(dataset):
        if dataset is None or dataset.alpha == alpha:
            return dataset
        dataset = copy.copy(dataset)  # shares the decoded clips (dataset.cache)
        dataset.alpha = alpha
        return dataset

    return packed(datasets[0]), packed(datasets[1])


def run_info(config: dict, load_before: tuple[float, float, float], minutes: dict) -> dict:
    """Where and how the lesson ran: date, CPU, threads, load averages, minutes per phase."""
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": _cpu_name(), "cores": os.cpu_count(), "torch": torch.__version__,
            "threads": config["train"]["threads"], "num_workers": config["data"]["num_workers"],
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "minutes": {k: round(v, 3) for k, v in minutes.items()}}


def phase_minutes(start: float, data_done: float, decode_done: float) -> dict[str, float]:
    """Minutes of a lesson's phases from its `time.perf_counter()` marks, training ending now."""
    end = time.perf_counter()
    return {"data": (data_done - start) / 60, "decode": (decode_done - data_done) / 60,
            "train": (end - decode_done) / 60, "total": (end - start) / 60}


def save_run(out: Path, results: dict, run: dict) -> None:
    """A lesson's `results.json` and `run.json` in `out` (what `--check` and `make` read)."""
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")


class Goals:
    """A lesson run's goals, checked one at a time: `met` and `missed`, one line each."""

    def __init__(self) -> None:
        self.met: list[str] = []
        self.missed: list[str] = []

    def check(self, ok: bool, line: str) -> None:
        (self.met if ok else self.missed).append(line)

    def equal_budgets(self, results: dict) -> None:
        """Every model trained the same number of steps."""
        steps = {key: r["steps"] for key, r in results.items()}
        self.check(len(set(steps.values())) == 1, "equal budgets: " + ", ".join(
            f"{key} {n}" for key, n in steps.items()) + " steps")

    def in_time(self, minutes: float, what: str, goal_minutes: float, run: dict,
                cores: int = 2) -> None:
        """`minutes` <= `goal_minutes`, judged only for a run on `cores` cores that started on a
        quiet machine (a 1-minute load average under QUIET_LOAD); otherwise said, not judged."""
        load = run["load_average_before"][0]
        if run["cores"] == cores and load < QUIET_LOAD:
            self.check(minutes <= goal_minutes, f"{minutes:.1f} minutes {what} (goal <= "
                                                f"{goal_minutes:g} on {cores} cores)")
        else:
            self.met.append(f"time not judged: {minutes:.1f} minutes {what} on {run['cores']} "
                            f"cores with a 1-minute load average of {load} before the run (the "
                            f"goal is for {cores} quiet cores, load < {QUIET_LOAD})")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def lesson_table(results: dict) -> str:
    """A Markdown table of the lesson's results."""
    lines = ["| model | preset | val top-1 | minutes | steps |", "|---|---|---|---|---|"]
    for key, r in results.items():
        lines.append(f"| {key} | {r['model']} | {100 * (r['val_top1'] or 0):.1f}% | "
                     f"{r['minutes']:.2f} | {r['steps']} |")
    return "\n".join(lines) + "\n"


def plot_results(results: dict, path: Path) -> Path:
    """A bar chart of validation top-1 per model."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    names = list(results)
    values = [100 * (results[k]["val_top1"] or 0) for k in names]
    bars = ax.bar(names, values, color=["tab:purple", "tab:blue", "tab:orange"][: len(names)])
    ax.bar_label(bars, fmt="%.1f%%")
    ax.set(ylabel="val top-1 (%)", ylim=(0, 112), title="same budget, synthetic motion set")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def check_lesson(results: dict, run: dict) -> tuple[list[str], list[str]]:
    """(goals met, goals missed) of a lesson run (`results.json`, `run.json`), one line each;
    the time goal counts only for a run on 2 cores that started on a quiet machine."""
    goals = Goals()
    goals.check(list(results) == list(MODELS), f"the three models trained: {', '.join(results)}")
    goals.equal_budgets(results)
    top1 = {k: r["val_top1"] or 0.0 for k, r in results.items()}
    slowfast, slow = top1.get("slowfast", 0.0), top1.get("slow_only", 1.0)
    goals.check(slowfast >= GOAL_TOP1, f"SlowFast val top-1 {100 * slowfast:.1f}% (goal >= "
                                       f"{100 * GOAL_TOP1:.0f}%)")
    goals.check(slowfast - slow >= GOAL_GAP,
                f"Slow-only {100 * slow:.1f}%, {100 * (slowfast - slow):.1f} points below "
                f"SlowFast (goal >= {100 * GOAL_GAP:.0f})")
    cpu = sum(r["cpu_minutes"] for r in results.values())
    goals.check(cpu <= GOAL_CORES * GOAL_MINUTES, f"{cpu:.1f} CPU minutes of training (goal <= "
                                                  f"{GOAL_CORES} cores x {GOAL_MINUTES:g} minutes)")
    goals.in_time(sum(r["minutes"] for r in results.values()), "for the three", GOAL_MINUTES,
                  run, GOAL_CORES)
    return goals.met, goals.missed
