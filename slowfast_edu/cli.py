"""The `slowfast-edu` command: thin wrappers that parse, call the library and print."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def cmd_train(args: argparse.Namespace) -> int:
    """Train from a YAML config; resumable with --resume."""
    from .train import NonFiniteLossError, Trainer, load_config
    from .train.distributed import cleanup

    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"train.max_steps={args.max_steps}")
    config = load_config(args.config, overrides)
    try:
        trainer = Trainer(config, args.out, resume=args.resume, device=args.device,
                          progress=not args.quiet)
        results = trainer.fit()
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        cleanup()
    if trainer.ctx.is_main:
        results.pop("per_class", None)
        print(json.dumps(results, indent=2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Multi-view evaluation of a checkpoint on the config's validation list."""
    import torch
    from torch.utils.data import DataLoader

    from .models.weights import load_weights
    from .train import evaluate, load_config
    from .train.engine import build_from_config, dataset_from_config
    from .train.metrics import plot_confusion

    config = load_config(args.config, args.overrides)
    data = config["data"]
    if not data["val"]:
        raise SystemExit("error: the config has no data.val to evaluate on")
    alpha = get_config(config["model"]["name"], **config["model"]["overrides"]).alpha
    dataset = dataset_from_config(data, data["val"], "test", alpha,
                                  args.clips or data["eval_clips"], args.crops or data["eval_crops"])
    config["model"]["pretrained"] = None
    model = build_from_config(config, len(dataset.classnames))
    load_weights(model, args.checkpoint)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    loader = DataLoader(dataset, batch_size=config["train"]["batch_size"],
                        num_workers=data["num_workers"])
    results = evaluate(model.to(device), loader, len(dataset.classnames), device)
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

    train = sub.add_parser("train", help="train from a YAML config (see configs/)")
    train.add_argument("config", help="a YAML file, e.g. configs/synthetic_tiny_cpu.yaml")
    train.add_argument("--out", required=True, help="folder for checkpoints, metrics and plots")
    train.add_argument("--max-steps", type=int, default=None, help="stop after N steps")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    train.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("overrides", nargs="*", metavar="key=value",
                       help="config overrides, e.g. train.epochs=2 optim.base_lr=0.05")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("eval", help="multi-view evaluation of a checkpoint")
    evaluate.add_argument("config")
    evaluate.add_argument("--checkpoint", required=True)
    evaluate.add_argument("--clips", type=int, default=None, help="temporal views (default 10)")
    evaluate.add_argument("--crops", type=int, default=None, help="spatial views (default 3)")
    evaluate.add_argument("--out", default=None, help="folder for eval.json and the confusion "
                          "matrix")
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("overrides", nargs="*", metavar="key=value")
    evaluate.set_defaults(func=cmd_eval)

    data = sub.add_parser("data", help="build datasets: a Kinetics subset, the synthetic set")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    from .data.subset import add_subset_arguments

    from .explain.cli import add_explain_arguments

    add_explain_arguments(sub.add_parser(
        "explain", help="Grad-CAM of each pathway over time and the top-5 of a clip"))
    from .app.cli import add_demo_arguments

    add_demo_arguments(sub.add_parser(
        "demo", help="the web app: upload a clip, see the top-5 and each pathway's Grad-CAM"))
    from .notebooks import add_notebooks_arguments

    add_notebooks_arguments(sub.add_parser(
        "notebooks", help="the course notebooks: write the student version (no solutions)"))

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

    lesson = sub.add_parser("lesson", help="the course's experiments")
    lesson_sub = lesson.add_subparsers(dest="lesson", required=True)
    pathways = lesson_sub.add_parser("pathways", help="SlowFast vs Slow-only vs Fast-only on "
                                     "the synthetic set, equal budgets, on a CPU")
    pathways.add_argument("--out", required=True)
    pathways.add_argument("--data", default=None, help="an existing synthetic set (default: "
                          "generate one in OUT/data)")
    pathways.add_argument("--quiet", action="store_true")
    pathways.add_argument("overrides", nargs="*", metavar="key=value")
    pathways.set_defaults(func=cmd_lesson_pathways)

    from .export_cli import add_export_arguments
    from .predict_cli import add_predict_arguments
    from .weights_cli import add_weights_arguments

    add_export_arguments(sub.add_parser(
        "export", help="a checkpoint as a small int8 model file, with its domain check"))
    add_predict_arguments(sub.add_parser(
        "predict", help="the top-5 of a clip, and whether it is in the model's world"))
    add_weights_arguments(sub.add_parser(
        "weights", help="published weights: list them, download them into the cache"))
    return parser


def cmd_synthetic(args: argparse.Namespace) -> int:
    """Generate the synthetic motion set."""
    from .data.synthetic import write_dataset

    counts = write_dataset(args.out, args.train_per_class, args.val_per_class, args.frames,
                           args.size, args.seed, args.workers)
    print(f"wrote {counts} videos to {args.out}")
    return 0


def cmd_lesson_pathways(args: argparse.Namespace) -> int:
    """Run the pathway lesson and print its table."""
    from .train.lesson import results_table, run_pathways_lesson

    results = run_pathways_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(results_table(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `slowfast-edu` console script."""
    parser = build_parser()
    # `key=value` overrides may follow options (argparse alone would reject them there)
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or any("=" not in e or e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(args.overrides) + extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
