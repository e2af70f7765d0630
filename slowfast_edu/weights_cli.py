"""`slowfast-edu weights list` and `slowfast-edu weights download NAME [--from MIRROR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .models import PRESETS, CheckpointError, build_model
from .models.download import DownloadError
from .models.weights import cache_dir, download_weights, find_weights, hub_dir


def add_weights_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `weights list|download` subcommands to `parser`; returns `parser`."""
    sub = parser.add_subparsers(dest="weights_command", required=True)
    sub.add_parser("list", help="presets with published weights: size, source, cached or not"
                   ).set_defaults(func=run_list)
    download = sub.add_parser("download", help="a preset's checkpoint and class names into the "
                                               "cache, checked before they are kept")
    published = [n for n, p in PRESETS.items() if p.weights]
    download.add_argument("name", choices=published, metavar="NAME",
                          help=f"one of: {', '.join(published)}")
    download.add_argument("--from", dest="source", default=None, metavar="MIRROR",
                          help="a base URL or a local folder holding the zoo's file names "
                               "(default: the PyTorchVideo model zoo)")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=run_download)
    return parser


def _size(name: str, path: Path | None) -> str:
    if path is not None:
        return f"{path.stat().st_size / 1e6:.0f} MB"
    with torch.device("meta"):
        model = build_model(name, num_classes=PRESETS[name].weights.num_classes)
    floats = sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())
    return f"~{4 * floats / 1e6:.0f} MB"  # float32 weights and BN statistics


def run_list(args: argparse.Namespace) -> int:
    """Print the presets with published weights and where their files are."""
    print(f"cache: {cache_dir()} (set $SLOWFAST_EDU_CACHE to move it); also read: {hub_dir()}")
    for name, preset in PRESETS.items():
        weights = preset.weights
        if weights is None:
            continue
        files = find_weights(name)
        if files.complete:
            where = f"cached ({files.checkpoint})"
        elif files.checkpoint is not None:
            where = f"checkpoint cached ({files.checkpoint}), class names not"
        else:
            where = "not downloaded"
        print(f"\n{name}: {preset.summary}\n"
              f"  {weights.dataset} top-1/top-5 {weights.accuracy}"
              + (f"; the paper: {preset.paper.top1:.1f}" if preset.paper else "") + "\n"
              f"  {_size(name, files.checkpoint)}, from {weights.url}\n"
              f"  {where}")
    print("\nget one with `slowfast-edu weights download NAME [--from MIRROR]`")
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download and check one preset's files; 0 on success, 2 with the reason otherwise."""
    try:
        files = download_weights(args.name, args.source, progress=not args.quiet)
    except (DownloadError, CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.name}: checkpoint {files.checkpoint}\n{' ' * len(args.name)}  class names "
          f"{files.classnames}\nchecked: every key and shape fits {args.name}; load it with "
          f"slowfast_edu.load_pretrained({args.name!r}) or `--model {args.name}`")
    return 0
