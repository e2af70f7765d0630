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
import json
import sys
from pathlib import Path

# name -> (help, "module:function" that adds the subcommand's options and its `func`)
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("list the presets with parameters and GFLOPs", "slowfast_edu.cli:add_models"),
    "info": ("the measured Table 1 of a preset", "slowfast_edu.cli:add_info"),
    "train": ("train from a YAML config (a file, or a shipped config's name)",
              "slowfast_edu.cli:add_train"),
    "eval": ("multi-view evaluation of a checkpoint", "slowfast_edu.cli:add_eval"),
    "data": ("build datasets: a Kinetics subset, the synthetic set", "slowfast_edu.cli:add_data"),
    "explain": ("Grad-CAM of each pathway over time and the top-5 of a clip",
                "slowfast_edu.explain.cli:add_explain_arguments"),
    "demo": ("the web app: upload a clip, see the top-5 and each pathway's Grad-CAM",
             "slowfast_edu.app.cli:add_demo_arguments"),
    "notebooks": ("the course notebooks: write the student version (no solutions)",
                  "slowfast_edu.notebooks.student:add_notebooks_arguments"),
    "lesson": ("the course's experiments", "slowfast_edu.cli:add_lesson"),
    "export": ("a trainer checkpoint as a small float16 model file",
               "slowfast_edu.cli:add_export"),
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


def add_train(parser: argparse.ArgumentParser) -> None:
    """`train CONFIG --out DIR [--resume] [key=value ...]`."""
    parser.add_argument("config", help="a YAML file, e.g. configs/synthetic_tiny_cpu.yaml, or "
                        "the name of a shipped config (synthetic_tiny_cpu, default_model, "
                        "kinetics_subset_8x8_r50, kinetics400_8x8_r50)")
    parser.add_argument("--out", required=True, help="folder for checkpoints, metrics and plots")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after N steps")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. train.epochs=2 optim.base_lr=0.05")
    parser.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """Train from a YAML config; resumable with --resume."""
    from .train import NonFiniteLossError, Trainer, find_config, load_config
    from .train.distributed import cleanup

    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"train.max_steps={args.max_steps}")
    config = load_config(args.config, overrides)
    last = Path(args.out) / "last.pt"
    if last.exists() and not args.resume:  # a second run there would overwrite the first
        from .train import ConfigError

        raise ConfigError(f"{args.out} already holds a run ({last}): continue it with --resume, "
                          f"or give another --out (delete the folder to start again there)")
    trainer = None
    try:
        trainer = Trainer(config, args.out, resume=args.resume, device=args.device,
                          progress=not args.quiet, source=find_config(args.config))
        results = trainer.fit()
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if trainer is None:
            raise
        kept = (f"{Path(args.out) / 'last.pt'} holds step {trainer.saved_step}: continue with "
                f"--resume" if trainer.saved_step is not None else "no checkpoint was written")
        print(f"\ninterrupted at step {trainer.step}; {kept}", file=sys.stderr)
        return 130
    finally:
        cleanup()
    if trainer.ctx.is_main:
        results.pop("per_class", None)
        print(json.dumps(results, indent=2))
        print(_checkpoints_note(Path(args.out), trainer), file=sys.stderr)
    return 0


def _checkpoints_note(out: Path, trainer) -> str:
    """Which checkpoints a run left, and why best.pt may be missing."""
    line = f"wrote {out / 'last.pt'} (step {trainer.step})"
    if (out / "best.pt").exists():
        return line + f" and {out / 'best.pt'} (val top-1 {100 * trainer.best_top1:.1f}%)"
    why = ("the config has no data.val" if trainer.val_set is None else
           f"validation runs at the end of every {trainer.config['train']['eval_every']} "
           f"epoch(s), and this run stopped at step {trainer.step}, in epoch {trainer.epoch + 1}")
    return line + f"; no best.pt: {why} (eval uses last.pt then)"


def add_eval(parser: argparse.ArgumentParser) -> None:
    """`eval CONFIG --checkpoint FILE [--clips K --crops N]`."""
    parser.add_argument("config", help="the config the model was trained with (a file or a "
                        "shipped config's name)")
    parser.add_argument("--checkpoint", required=True, help="best.pt or last.pt of a run (or "
                        "the run's folder: its best.pt, else last.pt)")
    parser.add_argument("--clips", type=int, default=None, help="temporal views (default 10)")
    parser.add_argument("--crops", type=int, default=None, help="spatial views (default 3)")
    parser.add_argument("--out", default=None, help="folder for eval.json and the confusion "
                        "matrix")
    parser.add_argument("--device", default=None)
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    """Multi-view evaluation of a checkpoint on the config's validation list."""
    import torch

    from .models import get_config
    from .models.weights import load_weights
    from .train import ConfigError, evaluate, find_config, load_config, resolve_config
    from .train.datasets import class_names, dataset_from_config, loader, prepare_data
    from .train.distributed import check_device
    from .train.engine import build_from_config
    from .train.metrics import plot_confusion

    config = resolve_config(load_config(args.config, args.overrides))
    data = config["data"]
    if not data["val"]:
        raise ConfigError("the config has no data.val to evaluate on; give one, e.g. "
                          "data.val=path/to/val.csv")
    checkpoint = checkpoint_to_evaluate(args.checkpoint)
    prepare_data(config, source=find_config(args.config))
    model = build_from_config(config, len(class_names(config)), pretrained=False)
    load_weights(model, checkpoint)  # a CheckpointError now, before any video is decoded
    alpha = get_config(config["model"]["name"], **config["model"]["overrides"]).alpha
    views = args.clips or data["eval_clips"], args.crops or data["eval_crops"]
    dataset = dataset_from_config(data, data["val"], "test", alpha, *views)
    check_device(args.device)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    results = evaluate(model.to(device), loader(dataset, data, config["train"]["batch_size"]),
                       len(dataset.classnames), device)
    skipped = dataset.pop_skipped()
    print(f"{results['videos']} videos x {dataset.num_clips * dataset.num_crops} views: "
          f"top-1 {100 * results['top1']:.2f}%, top-5 {100 * results['top5']:.2f}%"
          + (f" ({len(skipped)} unreadable videos skipped)" if skipped else ""))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        plot_confusion(results["confusion"], dataset.classnames, out / "confusion.png")
        per_class = dict(zip(dataset.classnames, results["per_class"]))
        (out / "eval.json").write_text(json.dumps(
            {"top1": results["top1"], "top5": results["top5"], "videos": results["videos"],
             "per_class": per_class, "skipped": skipped}, indent=2))
    return 0


def checkpoint_to_evaluate(path: str | Path) -> Path:
    """`path`, or for a run's folder its best.pt (else last.pt), or the last.pt beside a best.pt
    that a short run never wrote; says so in one line when it is not the file named."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_file():
        return path
    if path.is_dir() and (path / "best.pt").is_file():
        return path / "best.pt"
    if (path.is_dir() or path.name == "best.pt") and (folder / "last.pt").is_file():
        print(f"note: {folder / 'best.pt'} does not exist (a run writes it when it validates, at "
              f"the end of an epoch; this one stopped earlier): evaluating "
              f"{folder / 'last.pt'}, the run's latest weights", file=sys.stderr)
        return folder / "last.pt"
    from .models import CheckpointError

    raise CheckpointError(f"no checkpoint at {path}" + (
        f" (the folder has {', '.join(sorted(p.name for p in folder.glob('*.pt')))})"
        if folder.is_dir() and any(folder.glob("*.pt")) else ""))


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


def add_lesson(parser: argparse.ArgumentParser) -> None:
    """`lesson pathways --out DIR [--data DIR] [--check] [key=value ...]`."""
    lesson_sub = parser.add_subparsers(dest="lesson", required=True)
    pathways = lesson_sub.add_parser("pathways", help="SlowFast vs Slow-only vs Fast-only on "
                                     "the synthetic set, equal budgets, on a CPU")
    pathways.add_argument("--out", required=True)
    pathways.add_argument("--data", default=None, help="an existing synthetic set (default: "
                          "generate one in OUT/data)")
    pathways.add_argument("--check", action="store_true", help="then check the run against "
                          "the lesson's goals (exit 1 if one is missed)")
    pathways.add_argument("--quiet", action="store_true")
    pathways.add_argument("overrides", nargs="*", metavar="key=value")
    pathways.set_defaults(func=cmd_lesson_pathways)


def cmd_lesson_pathways(args: argparse.Namespace) -> int:
    """Run the pathway lesson, print its table and, with --check, its goals."""
    from .train.lesson import check_lesson, lesson_table, run_pathways_lesson

    results = run_pathways_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(lesson_table(results))
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    met, missed = check_lesson(results, run)
    for line in met:
        print(f"  ok      {line}")
    for line in missed:
        print(f"  MISSED  {line}")
    return 1 if missed else 0


def add_export(parser: argparse.ArgumentParser) -> None:
    """`export CHECKPOINT --out FILE`."""
    parser.add_argument("checkpoint")
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Export a checkpoint with its class names for `load_exported` (the default model's form)."""
    from .models.default import export_checkpoint

    path = export_checkpoint(args.checkpoint, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
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
