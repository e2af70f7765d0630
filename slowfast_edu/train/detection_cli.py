"""`slowfast-edu eval` of a detector (frame mAP) and `slowfast-edu lesson detection`.

    slowfast-edu eval synthetic_detection_tiny_cpu --checkpoint runs/detection [--out DIR]
    slowfast-edu lesson detection --out runs/lesson_detection [--check]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..models.weights import load_weights
from .datasets import loader
from .detection import (ava_collate, detection_classes, detection_dataset, evaluate_detection,
                        ground_truth, prepare_detection_data)
from .engine import build_from_config
from .lesson_detection import check_detection_lesson, detection_table, run_detection_lesson


def eval_detection(config: dict, checkpoint: Path, device: str | None, out: str | None,
                   source: Path | None = None) -> int:
    """Frame mAP at IoU 0.5 of a detector checkpoint on `data.val` (single view, as AVA)."""
    prepare_detection_data(config, source=source)
    names, class_ids = detection_classes(config)
    model = build_from_config(config, len(names), pretrained=False)
    load_weights(model, checkpoint)  # a CheckpointError now, before any video is decoded
    dataset = detection_dataset(config, "val")
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    batches = loader(dataset, config["data"], config["train"]["batch_size"],
                     collate_fn=ava_collate)
    results = evaluate_detection(model.to(target), batches, dataset,
                                 ground_truth(config, dataset), class_ids, target)
    skipped = dataset.pop_skipped()
    boxes = "proposals" if config["data"]["ava"] and config["data"]["ava"].get("proposals") \
        else "ground-truth boxes"
    print(f"{results['key_frames']} key frames, {results['boxes']} {boxes}: frame mAP@0.5 "
          f"{100 * results['map']:.2f}"
          + (f" ({len(skipped)} unreadable key frames skipped)" if skipped else ""))
    for c, ap in results["per_class"].items():
        print(f"  {names[c - 1]:30s} AP {100 * ap:6.2f}")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "eval.json").write_text(json.dumps(
            {"frame_map": results["map"], "key_frames": results["key_frames"],
             "boxes": results["boxes"], "skipped": skipped,
             "per_class_ap": {names[c - 1]: ap for c, ap in results["per_class"].items()}},
            indent=2))
    return 0


def add_lesson_detection(lesson_sub) -> None:
    """`lesson detection --out DIR [--data DIR] [--check] [key=value ...]`."""
    parser = lesson_sub.add_parser("detection", help="SlowFast vs Slow-only detectors on the "
                                   "synthetic detection set, equal budgets, frame mAP, on a CPU")
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", default=None, help="an existing synthetic detection set "
                        "(default: generate one in OUT/data)")
    parser.add_argument("--check", action="store_true", help="then check the run against the "
                        "lesson's goals (exit 1 if one is missed)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.set_defaults(func=cmd_lesson_detection)


def cmd_lesson_detection(args: argparse.Namespace) -> int:
    """Run the detection lesson, print its table and, with --check, its goals."""
    results = run_detection_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(detection_table(results))
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    met, missed = check_detection_lesson(results, run)
    for line in met:
        print(f"  ok      {line}")
    for line in missed:
        print(f"  MISSED  {line}")
    return 1 if missed else 0
