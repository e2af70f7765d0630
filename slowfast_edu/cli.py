"""The `slowfast-edu` command: thin wrappers that parse, call the library and print."""

from __future__ import annotations

import argparse
import sys

import torch

from .models import PRESETS, build_network, count_flops, count_params, example_inputs, get_config
from .models.describe import describe


def _meta_model(name: str):
    """Preset `name` on the meta device: shapes and counts without memory or compute."""
    cfg = get_config(name)
    with torch.device("meta"):
        return cfg, build_network(cfg)


def cmd_models(args: argparse.Namespace) -> int:
    """Print every preset with its parameters and GFLOPs."""
    print(f"{'model':28s} {'params':>12s} {'GFLOPs@224':>11s} {'GFLOPs@256':>11s}  "
          f"{'K400 top-1':>10s}  description")
    for name, preset in PRESETS.items():
        cfg, model = _meta_model(name)
        sizes = [224, 256] if cfg.crop_size >= 224 else [cfg.crop_size, None]
        flops = [count_flops(model, example_inputs(cfg, s, device="meta")) if s else None
                 for s in sizes]
        cells = [f"{f:11.2f}" if f is not None else f"{'':11s}" for f in flops]
        if cfg.crop_size < 224:
            cells[0] = f"{flops[0]:6.2f}@{cfg.crop_size:<4d}"
        top1 = f"{preset.top1:.1f}" if preset.top1 else ""
        print(f"{name:28s} {count_params(model):>12,d} {cells[0]} {cells[1]}  {top1:>10s}  "
              f"{preset.summary}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print the measured Table 1 of one preset."""
    cfg, model = _meta_model(args.name)
    size = args.size or cfg.crop_size
    inputs = example_inputs(cfg, size, device="meta")
    print(f"{args.name}: {PRESETS[args.name].summary}")
    print(f"T={cfg.slow_frames}, tau={cfg.tau}, alpha={cfg.alpha}, beta=1/{cfg.beta_inv}, "
          f"fusion={cfg.fusion}, input {size}x{size}")
    print(f"parameters {count_params(model):,d}, {count_flops(model, inputs):.2f} GFLOPs per "
          f"view\n")
    print(describe(model, inputs))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `slowfast-edu`."""
    parser = argparse.ArgumentParser(prog="slowfast-edu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the presets with parameters and GFLOPs"
                   ).set_defaults(func=cmd_models)
    info = sub.add_parser("info", help="the measured Table 1 of a preset")
    info.add_argument("name", choices=list(PRESETS), metavar="NAME",
                      help=f"one of: {', '.join(PRESETS)}")
    info.add_argument("--size", type=int, default=None, help="frame size (default: the preset's)")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `slowfast-edu` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
