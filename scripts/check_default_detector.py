"""Check the default detector that `make default-detector` just exported against its goals.

    python scripts/check_default_detector.py [slowfast_edu/assets/default_detector.pt]

Goals: frame mAP at IoU 0.5 >= 0.9 on the val key frames of the synthetic detection set
(data/synthetic_detection/val.csv, ground-truth boxes), measured here with the int8 weights of the
file, not read from the training run; its domain check accepts >= 99% of the held-out boxes
(generator seed 1); the file <= 4 MiB. Exit 1 with the reasons when one is missed; exit 2 naming
the file when it cannot be read (or the val set is missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from slowfast_edu.data.ava_dataset import ava_collate
from slowfast_edu.models import CheckpointError
from slowfast_edu.models.default import DEFAULT_DETECTOR, load_exported
from slowfast_edu.train.config import CONFIG_DIR, load_config
from slowfast_edu.train.detection import (detection_classes, detection_dataset,
                                          evaluate_detection, ground_truth)

CONFIG = CONFIG_DIR / "default_detector.yaml"


def frame_map(model: torch.nn.Module) -> float:
    """The model's frame mAP on the val key frames of its config's data set."""
    config = load_config(CONFIG)
    dataset = detection_dataset(config, "val")
    loader = DataLoader(dataset, batch_size=8, collate_fn=ava_collate)
    _, class_ids = detection_classes(config)
    result = evaluate_detection(model, loader, dataset, ground_truth(config, dataset), class_ids,
                                torch.device("cpu"), progress=False)
    return result["map"]


def main(path: Path) -> int:
    try:
        model = load_exported(path)
        measured = frame_map(model)
    except (OSError, CheckpointError) as e:  # missing, unreadable, not exported; no val set
        print(f"error: cannot check {path}: {e}", file=sys.stderr)
        return 2
    domain = model.domain
    size = path.stat().st_size / 2**20
    accepted = domain.info["heldout_accepted"] if domain is not None else 0.0
    trained = 100 * model.info["best_top1"]  # the trainer's best frame mAP, float32 weights
    print(f"{path}: frame mAP {100 * measured:.1f} (int8 weights; {trained:.1f} in training), "
          f"held-out boxes accepted {100 * accepted:.1f}%, {size:.2f} MiB")
    missed = [goal for goal, met in [
        ("frame mAP >= 0.9", measured >= 0.9),
        ("a domain check accepting >= 99% of held-out boxes", accepted >= 0.99),
        ("file <= 4 MiB", size <= 4)] if not met]
    if missed:
        print("missed: " + "; ".join(missed), file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DETECTOR))
