"""The multi-label lesson: `configs/synthetic_multilabel_cpu.yaml` trained on a CPU, then scored
by mAP as Charades is (each video's score the maximum over its views), with the run recorded.

    slowfast-edu lesson multilabel --out runs/multilabel [--check]

It generates the synthetic multi-label set in `OUT/data` on first use (or pass one as `--data`),
trains `slowfast_tiny` with the multi-label head (sigmoid per class, BCE; `train/multilabel.py`),
evaluates the config's `eval_clips x eval_crops` views per validation video, and writes
`results.json` (mAP, per-class AP, minutes) and `run.json` (`lesson.run_info`: date, CPU, load).
`--check` (what `make lesson-multilabel` runs before it records the run in docs/) judges the goals.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from .config import CONFIG_DIR, load_config
from .datasets import dataset_from_config, loader, prepare_data
from .engine import Trainer
from .lesson import Goals, run_info, save_run
from .multilabel import evaluate_multilabel

MULTILABEL_CONFIG = CONFIG_DIR / "synthetic_multilabel_cpu.yaml"
# the goals (issue 16), for a full run on 2 CPU cores
GOAL_MAP, GOAL_MINUTES, GOAL_CORES = 0.90, 5.0, 2


def run_multilabel_lesson(out: str | Path, data_dir: str | Path | None = None,
                          overrides: list[str] | None = None, progress: bool = True) -> dict:
    """Train and evaluate the multi-label config; write results.json and run.json in `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start, load_before = time.perf_counter(), os.getloadavg()
    data_dir = Path(data_dir) if data_dir else out / "data"
    config = load_config(MULTILABEL_CONFIG, overrides)
    config["data"].update(train=str(data_dir / "train.csv"), val=str(data_dir / "val.csv"),
                          classnames=str(data_dir / "classnames.json"))
    prepare_data(config, progress)
    data_done = time.perf_counter()
    trainer = Trainer(config, out / "run", device="cpu", progress=progress)
    trained = trainer.fit()
    train_done = time.perf_counter()
    data, cfg = trainer.config["data"], trainer.model.cfg
    views = dataset_from_config(data, data["val"], "test", cfg.alpha, data["eval_clips"],
                                data["eval_crops"], multilabel=True)
    scores = evaluate_multilabel(trainer.model, loader(views, data, 16), cfg.num_classes,
                                 torch.device("cpu"), progress=progress)
    end = time.perf_counter()
    results = {"model": config["model"]["name"], "head": cfg.head, "steps": trained["steps"],
               "val_mAP_single_view": trained.get("val_mAP"), "mAP": scores["mAP"],
               "views": f"{data['eval_clips']} clips x {data['eval_crops']} crops, max",
               "videos": scores["videos"], "top1_hit": scores["top1"],
               "per_class_ap": dict(zip(trainer.classnames, scores["per_class_ap"])),
               "minutes": (end - data_done) / 60}
    run = run_info(trainer.config, load_before, {"data": (data_done - start) / 60,
                                                 "train": (train_done - data_done) / 60,
                                                 "eval": (end - train_done) / 60,
                                                 "total": (end - start) / 60})
    save_run(out, results, run)
    return results


def check_multilabel_lesson(results: dict, run: dict) -> tuple[list[str], list[str]]:
    """(goals met, goals missed): mAP >= 0.9, and training plus evaluation within 5 minutes
    (judged only for a run on 2 cores that started on a quiet machine)."""
    goals = Goals()
    goals.check(results["mAP"] >= GOAL_MAP,
                f"mAP {100 * results['mAP']:.1f}% over {results['videos']} videos "
                f"({results['views']}; goal >= {100 * GOAL_MAP:.0f}%)")
    goals.in_time(results["minutes"], "to train and evaluate", GOAL_MINUTES, run, GOAL_CORES)
    return goals.met, goals.missed
