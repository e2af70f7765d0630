"""`slowfast-edu export CHECKPOINT --out FILE [--domain-train CSV --domain-heldout CSV]`.

Writes a trainer checkpoint (or an exported model file) as the small int8 model file that
`load_exported` reads, the embedded default model's form; with `--domain-train` and
`--domain-heldout`, with its domain check fitted on those video lists (`calibrate.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .data import VideoDecodeError
from .models import CheckpointError


def add_export_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `export` options to `parser` (and `func=run_export`); returns `parser`."""
    parser.add_argument("checkpoint", help="a checkpoint from `slowfast-edu train`, or a model "
                                           "file from `slowfast-edu export`")
    parser.add_argument("--out", required=True, help="the model file to write")
    parser.add_argument("--domain-train", metavar="CSV", default=None,
                        help="the video list the model was trained on: fit its domain check")
    parser.add_argument("--domain-heldout", metavar="CSV", default=None,
                        help="clips of the same world it never saw: set the check's threshold")
    parser.add_argument("--domain-description", metavar="TEXT", default="",
                        help="the model's world in words, for the out-of-world notice")
    parser.add_argument("--domain-clips", type=int, default=4, metavar="N",
                        help="windows per training video (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_export)
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Export; 0 on success, 2 (and a message naming the file) for a file that cannot be."""
    from .models.default import export_int8, load_exported

    if (args.domain_train is None) != (args.domain_heldout is None):
        print("error: --domain-train and --domain-heldout go together", file=sys.stderr)
        return 2
    out = Path(args.out)
    part = out.with_name(f".{out.name}.part")  # `out` appears only when everything worked
    try:
        export_int8(args.checkpoint, part)
        domain = None
        if args.domain_train is not None:
            from .calibrate import fit_domain_check
            from .models import load_model

            domain = fit_domain_check(load_model(part), args.domain_train, args.domain_heldout,
                                      args.domain_clips, description=args.domain_description,
                                      progress=not args.quiet)
            info = domain.info
            print(f"domain check: threshold {domain.threshold:.2f} on {info['heldout_views']} "
                  f"held-out clips ({100 * info['heldout_accepted']:.1f}% accepted, top-1 "
                  f"{100 * info['heldout_top1']:.1f}%), from {info['train_views']} training "
                  f"views")
        else:
            try:  # re-exporting a model file keeps its check
                domain = load_exported(args.checkpoint).domain
            except CheckpointError:
                domain = None
        if domain is not None:
            export_int8(part, part, domain=domain)  # the statistics of these very weights
        os.replace(part, out)
    except (CheckpointError, VideoDecodeError, ValueError, OSError) as e:
        part.unlink(missing_ok=True)
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0
