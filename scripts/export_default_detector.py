"""Export the default detector that `make default-detector` just trained, with its domain check.

    python scripts/export_default_detector.py [runs/default_detector/best.pt]
        [--out slowfast_edu/assets/default_detector.pt] [--heldout data/synthetic_detection_heldout]

1. the checkpoint as int8 weights with per-channel scales (`export_int8`, the default model's form);
2. a held-out synthetic detection set (generator seed 1: 20 val videos, 60 key frames, never
   trained on), generated where `--heldout` points when missing;
3. the domain check of the exported weights (`calibrate_detection.py`): statistics of the pooled
   box features over the training boxes, the threshold set on the held-out boxes;
4. the file again, with the check. It appears at `--out` only when everything worked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from slowfast_edu.calibrate_detection import fit_detector_domain_check
from slowfast_edu.data.synthetic_detection import write_dataset
from slowfast_edu.models import CheckpointError, load_model
from slowfast_edu.models.default import DEFAULT_DETECTOR, export_int8

DATA = Path("data/synthetic_detection")
WORLD = ("the synthetic detection set: two or three coloured shapes (a red circle, a blue square, "
         "a yellow triangle) on a dark textured background, each moving left, moving right or "
         "staying still")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", nargs="?", default="runs/default_detector/best.pt")
    parser.add_argument("--out", type=Path, default=DEFAULT_DETECTOR)
    parser.add_argument("--data", type=Path, default=DATA, help="the training set's folder")
    parser.add_argument("--heldout", type=Path, default=Path("data/synthetic_detection_heldout"))
    args = parser.parse_args(argv)
    part = args.out.with_name(f".{args.out.name}.part")
    try:
        export_int8(args.checkpoint, part, info={"task": "detection"})
        if not (args.heldout / "val.csv").is_file():
            write_dataset(args.heldout, videos_train=0, videos_val=20, num_key_frames=3, size=64,
                          seed=1, workers=min(2, os.cpu_count() or 1))
        check = fit_detector_domain_check(load_model(part), args.data / "train.csv",
                                          args.data / "videos", args.heldout / "val.csv",
                                          args.heldout / "videos", description=WORLD)
        export_int8(part, part, domain=check)  # the statistics of these very weights
        os.replace(part, args.out)
    except (CheckpointError, OSError, ValueError) as e:
        part.unlink(missing_ok=True)
        print(f"error: {e}", file=sys.stderr)
        return 2
    info = check.info
    print(f"domain check: threshold {check.threshold:.2f}; {100 * info['heldout_accepted']:.1f}% "
          f"of {info['heldout_boxes']} held-out boxes accepted (top-1 "
          f"{100 * info['heldout_top1']:.1f}%), from {info['train_boxes']} training boxes")
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
