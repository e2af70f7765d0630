"""`slowfast-edu train`, `eval` and `lesson`: parse, call the trainer, print.

    slowfast-edu train CONFIG --out DIR [--resume] [--max-steps N] [key=value ...]
    slowfast-edu eval CONFIG --checkpoint DIR/best.pt [--clips K --crops N]
    slowfast-edu lesson pathways --out DIR [--check]
    slowfast-edu lesson detection --out DIR [--check]   (a detector's eval: detection_cli.py)
    slowfast-edu lesson baselines --out DIR [--check]
    slowfast-edu lesson multilabel --out DIR [--check]

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
from .detection_cli import eval_detection
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
        if trainer.detection:
            best = f"val frame mAP {100 * trainer.best_top1:.1f}"
        elif trainer.multilabel:
            best = f"val mAP {100 * trainer.best_top1:.1f}%"
        else:
            best = f"val top-1 {100 * trainer.best_top1:.1f}%"
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
    if "mAP" in report:  # a multi-label model (checkpoint_eval._multilabel_report)
        scores = (f" (scores: the maximum over a video's views): mAP {100 * report['mAP']:.2f}% "
                  f"over {report['classes_scored']} classes, top-1 hit "
                  f"{100 * report['top1']:.2f}%")
    else:
        scores = f": top-1 {100 * report['top1']:.2f}%, top-5 {100 * report['top5']:.2f}%"
    print(f"{report['videos']} videos x {report['views']} views{scores}"
          + (f" ({len(skipped)} unreadable videos skipped)" if skipped else ""))
    return 0


def add_lesson(parser: argparse.ArgumentParser) -> None:
    """`lesson {pathways,detection,baselines,multilabel} --out DIR [--data DIR] [--check]
    [key=value ...]`."""
    lesson_sub = parser.add_subparsers(dest="lesson", required=True)
    for name, helptext, func in (
            ("pathways", "SlowFast vs Slow-only vs Fast-only on the synthetic set, equal "
                         "budgets, on a CPU", cmd_lesson_pathways),
            ("detection", "SlowFast vs Slow-only detectors on the synthetic detection set, "
                          "equal budgets, frame mAP, on a CPU", cmd_lesson_detection),
            ("baselines", "C2D, I3D, Slow-only, two-stream and SlowFast on the synthetic set, "
                          "equal budgets, on a CPU", cmd_lesson_baselines),
            ("multilabel", "slowfast_tiny with a sigmoid head on the synthetic multi-label set: "
                           "BCE, mAP (max over views), on a CPU", cmd_lesson_multilabel)):
        lesson = lesson_sub.add_parser(name, help=helptext)
        lesson.add_argument("--out", required=True)
        lesson.add_argument("--data", default=None, help="an existing synthetic set of the "
                            "lesson's kind (default: generate one in OUT/data)")
        lesson.add_argument("--check", action="store_true", help="then check the run against "
                            "the lesson's goals (exit 1 if one is missed)")
        lesson.add_argument("--quiet", action="store_true")
        lesson.add_argument("overrides", nargs="*", metavar="key=value")
        lesson.set_defaults(func=func)


def cmd_lesson_pathways(args: argparse.Namespace) -> int:
    """Run the pathway lesson, print its table and, with --check, its goals."""
    results = run_pathways_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(lesson_table(results))
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    return _report_goals(*check_lesson(results, run))


def cmd_lesson_detection(args: argparse.Namespace) -> int:
    """Run the detection lesson, print its table and, with --check, its goals."""
    from .lesson_detection import check_detection_lesson, detection_table, run_detection_lesson

    results = run_detection_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(detection_table(results))
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    return _report_goals(*check_detection_lesson(results, run))


def cmd_lesson_baselines(args: argparse.Namespace) -> int:
    """Run the baselines lesson, print its table and, with --check, its goals."""
    from .lesson_baselines import baselines_table, check_baselines_lesson, run_baselines_lesson

    results = run_baselines_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(baselines_table(results))
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    return _report_goals(*check_baselines_lesson(results, run))


def cmd_lesson_multilabel(args: argparse.Namespace) -> int:
    """Train and score the multi-label config, print mAP and, with --check, the goals."""
    from .lesson_multilabel import check_multilabel_lesson, run_multilabel_lesson

    results = run_multilabel_lesson(args.out, args.data, args.overrides, not args.quiet)
    print(f"{results['model']} ({results['head']} head), {results['steps']} steps: mAP "
          f"{100 * results['mAP']:.1f}% over {results['videos']} videos ({results['views']}), "
          f"{results['minutes']:.1f} minutes")
    if not args.check:
        return 0
    run = json.loads((Path(args.out) / "run.json").read_text())
    return _report_goals(*check_multilabel_lesson(results, run))


def _report_goals(met: list[str], missed: list[str]) -> int:
    for line in met:
        print(f"  ok      {line}")
    for line in missed:
        print(f"  MISSED  {line}")
    return 1 if missed else 0
