"""`slowfast-edu eval` of a detector: frame mAP at IoU 0.5 on its config's val key frames.

    slowfast-edu eval synthetic_detection_tiny_cpu --checkpoint runs/detection [--out DIR]
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..models.weights import load_weights
from .datasets import loader
from .detection import (ava_collate, detection_classes, detection_dataset, evaluate_detection,
                        ground_truth, prepare_detection_data)
from .engine import build_from_config


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
