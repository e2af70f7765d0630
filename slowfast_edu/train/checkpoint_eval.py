"""Evaluate a trained checkpoint the way the paper tests: K x N views per validation video.

    report = evaluate_checkpoint("configs/synthetic_tiny_cpu.yaml", "runs/x/best.pt",
                                 views=(10, 3), out="runs/x/eval")
    report["top1"], report["per_class"]          # and out/eval.json, out/confusion.png

A multi-label config (`model.head: multilabel`, train/multilabel.py) is scored by mAP instead,
each video's score for a class the maximum over its views (the Charades protocol):
`report["mAP"]`, `report["per_class_ap"]`, and `report["top1"]`, the fraction of videos whose
top class is one of theirs.

What `slowfast-edu eval` runs, for notebooks and scripts that want the numbers rather than the
printout. A mistake the user can fix raises `ConfigError`, `CheckpointError` or
`MissingDataError` before any video is decoded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from ..models import CheckpointError, get_config
from ..models.weights import load_weights
from .config import ConfigError, find_config, load_config, resolve_config
from .datasets import class_names, dataset_from_config, loader, prepare_data
from .distributed import check_device
from .engine import build_from_config
from .evaluation import evaluate
from .metrics import plot_confusion
from .multilabel import evaluate_multilabel, is_multilabel


def evaluate_checkpoint(config: str | Path | dict, checkpoint: str | Path,
                        views: tuple[int | None, int | None] = (None, None),
                        out: str | Path | None = None, device: str | None = None,
                        overrides: list[str] | None = None) -> dict:
    """Top-1, top-5, per-class accuracy (by name), the confusion matrix and the skipped videos of
    `checkpoint` on the config's validation list, softmax scores averaged over `views` (windows,
    crops; the config's eval_clips x eval_crops by default); with `out`, eval.json and
    confusion.png are written there. A multi-label config gets mAP instead (`_multilabel_report`).
    """
    source = None if isinstance(config, dict) else find_config(config)
    config = resolve_config(config if isinstance(config, dict) else load_config(config, overrides))
    data = config["data"]
    if not data["val"]:
        raise ConfigError("the config has no data.val to evaluate on; give one, e.g. "
                          "data.val=path/to/val.csv")
    check_device(device)
    checkpoint = checkpoint_to_evaluate(checkpoint)
    prepare_data(config, source=source)
    model = build_from_config(config, len(class_names(config)), pretrained=False)
    load_weights(model, checkpoint)  # a CheckpointError now, before any video is decoded
    alpha = get_config(config["model"]["name"], **config["model"]["overrides"]).alpha
    clips, crops = views[0] or data["eval_clips"], views[1] or data["eval_crops"]
    multilabel = is_multilabel(config)
    dataset = dataset_from_config(data, data["val"], "test", alpha, clips, crops,
                                  multilabel=multilabel)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if multilabel:
        return _multilabel_report(model.to(device), dataset, config, device, checkpoint, out)
    results = evaluate(model.to(device), loader(dataset, data, config["train"]["batch_size"]),
                       len(dataset.classnames), device)
    report = {"top1": results["top1"], "top5": results["top5"], "videos": results["videos"],
              "views": clips * crops, "checkpoint": str(checkpoint),
              "per_class": dict(zip(dataset.classnames, results["per_class"])),
              "skipped": dataset.pop_skipped()}
    if out:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plot_confusion(results["confusion"], dataset.classnames, out / "confusion.png")
        (out / "eval.json").write_text(json.dumps(report, indent=2))
    return {**report, "confusion": results["confusion"]}


def _multilabel_report(model: torch.nn.Module, dataset, config: dict, device: torch.device,
                       checkpoint: Path, out: str | Path | None) -> dict:
    """mAP of a multi-label model, each video's score the maximum over its views (Charades); with
    `out`, eval.json is written there."""
    results = evaluate_multilabel(model, loader(dataset, config["data"],
                                                config["train"]["batch_size"]),
                                  len(dataset.classnames), device)
    report = {"mAP": results["mAP"], "top1": results["top1"], "videos": results["videos"],
              "views": dataset.num_clips * dataset.num_crops, "reduce": "max",
              "classes_scored": results["classes_scored"], "checkpoint": str(checkpoint),
              "per_class_ap": dict(zip(dataset.classnames, results["per_class_ap"])),
              "skipped": dataset.pop_skipped()}
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "eval.json").write_text(json.dumps(report, indent=2))
    return report


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
    raise CheckpointError(f"no checkpoint at {path}" + (
        f" (the folder has {', '.join(sorted(p.name for p in folder.glob('*.pt')))})"
        if folder.is_dir() and any(folder.glob("*.pt")) else ""))
