"""`slowfast-edu train`, `eval` and `lesson pathways`: parse, call the trainer, print.

    slowfast-edu train CONFIG --out DIR [--resume] [--max-steps N] [key=value ...]
    slowfast-edu eval CONFIG --checkpoint DIR/best.pt [--clips K --crops N]
    slowfast-edu lesson pathways --out DIR [--check]
    slowfast-edu lesson detection --out DIR [--check]   (and eval of a detector: detection_cli.py)

CONFIG is a YAML file or the name of a shipped config. A mistake the user can fix raises one of
the errors that `slowfast_edu.cli.main` prints as a single `error:` line (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .checkpoint_eval import checkpoint_to_evaluate, evaluate_checkpoint
from .config import ConfigError, find_config, load_config, resolve_config
from .detection import is_detection
from .detection_cli import add_lesson_detection, eval_detection
from .distributed import check_device, cleanup
from .engine import NonFiniteLossError, Trainer
from .lesson import check_lesson, lesson_table, run_pathways_lesson


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
    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"train.max_steps={args.max_steps}")
    config = load_config(args.config, overrides)
    last = Path(args.out) / "last.pt"
    if last.exists() and not args.resume:  # a second run there would overwrite the first
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
        best = ("val frame mAP {:.1f}" if trainer.detection else "val top-1 {:.1f}%").format(
            100 * trainer.best_top1)
        return line + f" and {out / 'best.pt'} ({best})"
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
    config = resolve_config(load_config(args.config, args.overrides))
    if is_detection(config):  # frame mAP on the val key frames (detection_cli.py)
        if not config["data"]["val"]:
            raise ConfigError("the config has no data.val to evaluate on; give one, e.g. "
                              "data.val=path/to/ava_val_v2.2.csv")
        check_device(args.device)
        return eval_detection(config, checkpoint_to_evaluate(args.checkpoint), args.device,
                              args.out, find_config(args.config))
    report = evaluate_checkpoint(args.config, args.checkpoint, (args.clips, args.crops),
                                 args.out, args.device, args.overrides)
    skipped = report["skipped"]
    print(f"{report['videos']} videos x {report['views']} views: "
          f"top-1 {100 * report['top1']:.2f}%, top-5 {100 * report['top5']:.2f}%"
          + (f" ({len(skipped)} unreadable videos skipped)" if skipped else ""))
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
    add_lesson_detection(lesson_sub)


def cmd_lesson_pathways(args: argparse.Namespace) -> int:
    """Run the pathway lesson, print its table and, with --check, its goals."""
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
