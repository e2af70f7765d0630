"""The `slowfast-edu` command: thin wrappers that parse, call the library and print.

Each subcommand's options, and the modules behind them, are loaded only when that subcommand is
the one asked for: `slowfast-edu --help` or `train` never import Gradio, nbformat or Captum, and a
missing optional dependency is named with the extra that installs it. A mistake the user can fix
(a missing file, a config value of the wrong type, a checkpoint that does not fit) prints one
`error:` line, never a traceback, and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (help, "module:function" that adds the subcommand's options and its `func`)
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("list the presets with parameters and GFLOPs", "slowfast_edu.cli:add_models"),
    "info": ("the measured Table 1 of a preset", "slowfast_edu.cli:add_info"),
    "train": ("train from a YAML config (a file, or a shipped config's name)",
              "slowfast_edu.train.cli:add_train"),
    "eval": ("multi-view evaluation of a checkpoint", "slowfast_edu.train.cli:add_eval"),
    "data": ("build datasets: a Kinetics subset, the synthetic set", "slowfast_edu.cli:add_data"),
    "explain": ("Grad-CAM of each pathway over time and the top-5 of a clip",
                "slowfast_edu.explain.cli:add_explain_arguments"),
    "demo": ("the web app: upload a clip, see the top-5 and each pathway's Grad-CAM",
             "slowfast_edu.app.cli:add_demo_arguments"),
    "notebooks": ("the course notebooks: the student version, grading, the full-mode timings",
                  "slowfast_edu.notebooks.commands:add_notebooks_arguments"),
    "lesson": ("the course's experiments", "slowfast_edu.train.cli:add_lesson"),
    "export": ("a checkpoint as a small int8 model file, with its domain check",
               "slowfast_edu.export_cli:add_export_arguments"),
    "predict": ("the top-5 of a clip, and whether it is in the model's world",
                "slowfast_edu.predict_cli:add_predict_arguments"),
    "weights": ("published weights: list them, download them into the cache",
                "slowfast_edu.weights_cli:add_weights_arguments"),
}
# optional dependencies -> the extra of pyproject.toml that installs them
EXTRAS = {"nbformat": "notebooks", "yt_dlp": "download", "playwright": "dev",
          "pytorchvideo": "dev"}


def add_models(parser: argparse.ArgumentParser) -> None:
    """`models [NAME ...]`."""
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="only these presets (default: all)")
    parser.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    """Print every preset (or those named) with its parameters and GFLOPs."""
    from .models import PRESETS, count_flops, count_params, example_inputs

    unknown = [name for name in args.names if name not in PRESETS]
    if unknown:
        print(f"error: unknown preset(s) {', '.join(unknown)}; choose from {', '.join(PRESETS)}",
              file=sys.stderr)
        return 2
    print(f"{'model':28s} {'params':>12s} {'GFLOPs@224':>11s} {'GFLOPs@256':>11s}  "
          f"{'K400 top-1':>10s}  description", flush=True)
    for name in args.names or PRESETS:
        preset = PRESETS[name]
        cfg, model = _meta_model(name)
        sizes = [224, 256] if cfg.crop_size >= 224 else [cfg.crop_size, None]
        flops = [count_flops(model, example_inputs(cfg, s, device="meta")) if s else None
                 for s in sizes]
        cells = [f"{f:11.2f}" if f is not None else f"{'':11s}" for f in flops]
        if cfg.crop_size < 224:
            cells[0] = f"{flops[0]:6.2f}@{cfg.crop_size:<4d}"
        top1 = f"{preset.top1:.1f}" if preset.top1 else ""
        print(f"{name:28s} {count_params(model):>12,d} {cells[0]} {cells[1]}  {top1:>10s}  "
              f"{preset.summary}", flush=True)  # a row at a time: the R101s take seconds
    return 0


def _meta_model(name: str):
    """Preset `name` on the meta device: shapes and counts without memory or compute."""
    import torch

    from .models import build_network, get_config

    cfg = get_config(name)
    with torch.device("meta"):
        return cfg, build_network(cfg)


def add_info(parser: argparse.ArgumentParser) -> None:
    """`info NAME [--size N]`."""
    from .models import PRESETS

    parser.add_argument("name", choices=list(PRESETS), metavar="NAME",
                        help=f"one of: {', '.join(PRESETS)}")
    parser.add_argument("--size", type=int, default=None, help="frame size (default: the "
                        "preset's)")
    parser.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """Print the measured Table 1 of one preset."""
    from .models import PRESETS, count_flops, count_params, example_inputs
    from .models.describe import describe

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


def add_data(parser: argparse.ArgumentParser) -> None:
    """`data kinetics-subset ...` and `data synthetic ...`."""
    from .data.subset import add_subset_arguments

    data_sub = parser.add_subparsers(dest="data_command", required=True)
    add_subset_arguments(data_sub.add_parser(
        "kinetics-subset", help="trim and resize a few Kinetics classes from a local copy or "
        "by downloading"))
    synthetic = data_sub.add_parser("synthetic", help="generate the synthetic motion set")
    synthetic.add_argument("--out", required=True, help="output folder")
    synthetic.add_argument("--train-per-class", type=int, default=40)
    synthetic.add_argument("--val-per-class", type=int, default=20)
    synthetic.add_argument("--frames", type=int, default=64)
    synthetic.add_argument("--size", type=int, default=48, help="frame size in pixels")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument("--workers", type=int, default=1)
    synthetic.set_defaults(func=cmd_synthetic)


def cmd_synthetic(args: argparse.Namespace) -> int:
    """Generate the synthetic motion set."""
    from .data.synthetic import write_dataset

    counts = write_dataset(args.out, args.train_per_class, args.val_per_class, args.frames,
                           args.size, args.seed, args.workers)
    print(f"wrote {counts} videos to {args.out}")
    return 0


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of `slowfast-edu`; with `only`, the options of that subcommand alone
    are loaded (the others are listed by name and help)."""
    parser = argparse.ArgumentParser(prog="slowfast-edu", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, target) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or only == name:
            module, function = target.split(":")
            try:
                adder = getattr(importlib.import_module(module), function)
            except ModuleNotFoundError as e:
                if e.name not in EXTRAS:
                    raise
                parser.exit(2, f"error: `slowfast-edu {name}` needs {e.name}, an optional "
                               f"dependency: pip install 'slowfast-edu[{EXTRAS[e.name]}]' (or "
                               f"pip install {e.name})\n")
            adder(command)
    return parser


def user_error(error: BaseException) -> bool:
    """True for the errors a user can fix from the message alone (printed without traceback)."""
    from .data import VideoDecodeError
    from .models import CheckpointError
    from .models.weights import DownloadError
    from .train import ConfigError, MissingDataError, RunFolderError

    return isinstance(error, (CheckpointError, ConfigError, DownloadError, MissingDataError,
                              RunFolderError, VideoDecodeError))


def _settings_as_options(extra: list[str]) -> list[str]:
    """`--epochs 2` as `train.epochs=2` (said in one line) when one config setting has that
    name; anything else is left for argparse to refuse."""
    from .train.config import DEFAULTS_FLAT

    out, rest = [], list(extra)
    while rest:
        item = rest.pop(0)
        name, _, value = item.removeprefix("--").partition("=")
        keys = [k for k in DEFAULTS_FLAT if k.rsplit(".", 1)[-1] == name.replace("-", "_")]
        if not item.startswith("--") or len(keys) != 1 or not (value or rest):
            out.append(item)
            continue
        value = value or rest.pop(0)
        print(f"note: {item if '=' in item else item + ' ' + value} taken as {keys[0]}={value} "
              f"(config settings are key=value)", file=sys.stderr)
        out.append(f"{keys[0]}={value}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `slowfast-edu` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    only = next((a for a in argv if not a.startswith("-")), "")  # "" for `--help` alone
    parser = build_parser(only if only in COMMANDS else "")
    # `key=value` overrides may follow options (argparse alone would reject them there)
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "overrides"):
        extra = _settings_as_options(extra)
    if extra:
        if not hasattr(args, "overrides") or any("=" not in e or e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(args.overrides) + extra
    try:
        return args.func(args)
    except Exception as e:
        if not user_error(e):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
