"""`slowfast-edu predict CLIP [--model NAME] [--checkpoint FILE] [--views 10x3] [--json]`."""

from __future__ import annotations

import argparse
import json
import re
import sys

from .data import VideoDecodeError
from .models import PRESETS, CheckpointError


def _views(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match.group(2)) not in (1, 3) or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected WINDOWSxCROPS with 1 or 3 crops (e.g. 10x3), "
                                         f"got {text!r}")
    return int(match.group(1)), int(match.group(2))


def add_predict_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `predict` options to `parser` (and `func=run_predict`); returns `parser`."""
    parser.add_argument("clip", help="a video file")
    parser.add_argument("--model", default=None, choices=list(PRESETS), metavar="NAME",
                        help="a preset whose published weights are downloaded (`slowfast-edu "
                             "weights download NAME`); with --checkpoint, its architecture")
    parser.add_argument("--checkpoint", default=None, metavar="FILE",
                        help="a checkpoint from `slowfast-edu train` or `export`")
    parser.add_argument("--views", type=_views, default=(1, 1), metavar="WxC",
                        help="temporal windows x spatial crops, averaged (default 1x1, the "
                             "centre; 10x3 is the paper's test)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--device", default=None, help="cpu (default) or cuda")
    parser.set_defaults(func=run_predict)
    return parser


def run_predict(args: argparse.Namespace) -> int:
    """Print the top-5 of a clip (and the notice for a clip outside the model's world); 0 on
    success, 2 for an unreadable clip or model."""
    from .predict import predict

    model = args.checkpoint if args.checkpoint is not None else args.model
    arch = args.model if args.checkpoint is not None else None
    try:
        result = predict(args.clip, model, views=args.views, arch=arch, device=args.device)
    except (VideoDecodeError, CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"clip": args.clip, **result.to_dict()}, indent=2))
        return 0
    print(result)
    domain = ("not checked (this model carries no domain statistics)" if result.in_domain is None
              else f"{'in' if result.in_domain else 'OUTSIDE'} the model's world (score "
                   f"{result.domain_score:.2f}; at most 1 is inside)")
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items())
    print(f"\n{result.model}; {result.views[0]}x{result.views[1]} view(s); domain: {domain}; "
          f"{steps}")
    return 0
