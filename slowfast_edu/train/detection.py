"""Training and evaluating the action detector (the paper's Section 5) with the same trainer.

A config trains a detector when its model's head is the RoI head (`head: detection`, the
`*_detection` presets). Its data section then names AVA-format files (`slowfast_edu.data.ava`):

    data:
      train: DIR/train.csv           # AVA annotation rows (video_id, timestamp, box, action, ...)
      val: DIR/val.csv
      video_root: DIR/videos         # {video_id}.mp4 or a {video_id}/ folder of frames
      classnames: DIR/label_map.pbtxt  # the label map; a JSON list of names means ids 1, 2, ...
      ava: {proposals: ..., score_threshold: 0.8, box_jitter: 0.05, excluded: ..., ...}

What changes against classification, and nothing else does (schedule, checkpoints, resume):
- an item is a key frame: its clip, its boxes (pixels of the transformed clip) and one multi-hot
  row of actions per box; batches are `ava_collate`d, boxes `(K, 5)` with their clip's index;
- the loss is the binary cross-entropy of each box's sigmoid outputs (multi-label: a person can
  stand and talk at once), averaged over boxes and classes as PySlowFast's `bce` loss;
- validation is frame-level mAP at IoU 0.5 (`frame_map`), on the ground-truth boxes or, with
  `data.ava.proposals`, on a person detector's boxes scoring at least `score_threshold` (the
  paper: 0.8); `best.pt` follows the mAP. The "top1" column of metrics.csv is the share of boxes
  whose highest-scoring action is one of theirs (a quick check while training).
- Testing is PySlowFast's AVA view: the short side resized to `test_short_side`, the whole frame.
- `model.pretrained: kinetics400` starts the backbone from the Kinetics-400 classifier of the same
  network (`KINETICS_BACKBONE`): res5's dilation changes no weight's shape, only the RoI head's
  classifier (80 AVA actions) starts from scratch, as in the paper.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.ava import AvaBox, read_annotations, read_excluded, read_label_map
from ..data.ava_dataset import AvaDataset, ava_collate  # noqa: F401  (the trainer's collate)
from ..data.ava_eval import frame_map
from ..models import get_config
from .config import ConfigError, resolve_config
from .evaluation import model_inputs, unwrap

# the classifier each detector preset's backbone starts from (`model.pretrained: kinetics400`):
# the same network with res5 undilated; the Slow-only 4x16 and 8x8 R50 have the same weights
# (only the clip differs), and PyTorchVideo publishes the 8x8 one
KINETICS_BACKBONE = {"slowfast_8x8_r50_detection": "slowfast_8x8_r50",
                     "slow_8x8_r50_detection": "slow_8x8_r50",
                     "slow_4x16_r50_detection": "slow_8x8_r50"}
AVA_SETTINGS = {
    "proposals": None,  # test-time person boxes (AVA's detection CSV with scores); None: truth
    "score_threshold": 0.8,  # proposals scoring below this are dropped (the paper's 0.8)
    "box_jitter": 0.05,  # training: each box edge moved by up to this share of the box
    "excluded": None,  # AVA's excluded-timestamps CSV for the val split
    "video_start": 0.0,  # seconds of the movie where each video starts (900 for 15-min cuts)
    "frame_fps": 30.0,  # frame rate of frame folders
    # the synthetic detection set: generated where data.train points when missing,
    # {videos_train, videos_val, key_frames, size, seed} as synthetic_detection.write_dataset
    "synthetic": None,
}
SYNTHETIC_SETTINGS = ("videos_train", "videos_val", "key_frames", "size", "seed")


def is_detection(config: dict) -> bool:
    """Whether the config's model is a detector (the RoI head)."""
    model = config["model"]
    try:
        return get_config(model["name"], **model["overrides"]).head == "detection"
    except (ValueError, TypeError) as e:
        raise ConfigError(f"model: {e}") from None


def kinetics_backbone(name: str) -> str:
    """The preset whose Kinetics-400 weights `model.pretrained: kinetics400` loads for `name`."""
    return KINETICS_BACKBONE.get(name, name)


def ava_settings(data: dict) -> dict:
    """`data.ava` with its defaults; an unknown key or a wrong value is a `ConfigError`."""
    given = data.get("ava") or {}
    unknown = set(given) - set(AVA_SETTINGS)
    if unknown:
        raise ConfigError(f"data.ava: unknown setting(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(AVA_SETTINGS)}")
    settings = {**AVA_SETTINGS, **given}
    for key in ("score_threshold", "box_jitter", "video_start", "frame_fps"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"data.ava.{key} must be a number >= 0 (default "
                              f"{AVA_SETTINGS[key]!r}), got {value!r}")
    for key in ("proposals", "excluded"):
        if settings[key] is not None and not isinstance(settings[key], str):
            raise ConfigError(f"data.ava.{key} is a file path, got {settings[key]!r}")
    spec = settings["synthetic"]
    if spec is not None and (not isinstance(spec, dict) or set(spec) - set(SYNTHETIC_SETTINGS)):
        raise ConfigError(f"data.ava.synthetic takes {', '.join(SYNTHETIC_SETTINGS)}; got "
                          f"{spec!r}")
    return settings


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def prepare_detection_data(config: dict, progress: bool = True, announce=None,
                           source: str | os.PathLike | None = None) -> None:
    """Generate the synthetic detection set where `data.ava.synthetic` asks for it, then check
    that every file the data section names exists (a `MissingDataError` naming the key)."""
    from .datasets import MissingDataError  # one error type for missing data, both tasks

    data, settings = config["data"], ava_settings(config["data"])
    if not data["train"]:
        raise ConfigError("the config has no data.train: give an AVA annotation CSV, e.g. "
                          "data.train=path/to/ava_train_v2.2.csv")
    spec = settings["synthetic"]
    if spec is not None and not Path(data["train"]).exists():
        folder = Path(data["train"]).parent
        if Path(data["train"]).name != "train.csv":
            raise ConfigError(f"data.ava.synthetic writes FOLDER/train.csv, val.csv, videos/ "
                              f"and label_map.pbtxt, so data.train must be FOLDER/train.csv, "
                              f"not {data['train']}")
        (announce or _note)(f"{data['train']} does not exist yet: generating the synthetic "
                            f"detection set in {folder} (data.ava.synthetic: {spec})")
        from ..data.synthetic_detection import write_dataset

        write_dataset(folder, videos_train=spec.get("videos_train", 60),
                      videos_val=spec.get("videos_val", 30),
                      num_key_frames=spec.get("key_frames", 3), size=spec.get("size", 64),
                      seed=spec.get("seed", 0), workers=min(2, os.cpu_count() or 1),
                      progress=progress)
    named = {f"data.{k}": data[k] for k in ("train", "val", "video_root", "classnames")}
    named.update({f"data.ava.{k}": settings[k] for k in ("proposals", "excluded")})
    if not data["video_root"]:
        raise ConfigError("a detection config needs data.video_root: the folder of the videos "
                          "({video_id}.mp4) or frame folders ({video_id}/)")
    for key, path in named.items():
        if path and not Path(path).exists():
            where = f"the first lines of {source} say how" if source else "see its config"
            raise MissingDataError(f"{key}: {path} does not exist (relative paths start from "
                                   f"{Path.cwd()}); make the data set first ({where}) or point "
                                   f"{key} at yours")


def detection_classes(config: dict) -> tuple[list[str], list[int]]:
    """(names of the model's outputs, column `id - 1` for action `id`; the action ids that are
    evaluated): AVA's label map lists the 60 evaluated of 80 ids."""
    path = config["data"]["classnames"]
    if path and str(path).endswith(".pbtxt"):
        names = read_label_map(path)
    elif path:
        names = dict(enumerate(json.loads(Path(path).read_text(encoding="utf-8")), start=1))
    else:
        ids = {r.action_id for r in read_annotations(config["data"]["train"])} - {None}
        names = {i: f"action {i}" for i in sorted(ids)}
    outputs = max(names)
    return [names.get(i, f"action {i} (not evaluated)") for i in range(1, outputs + 1)], \
        sorted(names)


def detection_dataset(config: dict, split: str, progress: bool = False) -> AvaDataset:
    """The AvaDataset of `data.{split}` (train: augmented, ground-truth boxes; val: the test view,
    the proposals if the config names them)."""
    config = resolve_config(config)
    data, settings = config["data"], ava_settings(config["data"])
    model = config["model"]
    names, _ = detection_classes(config)
    train = split == "train"
    dataset = AvaDataset(
        data[split], data["video_root"], mode="train" if train else "test",
        num_classes=len(names), num_frames=data["num_frames"],
        sampling_rate=data["sampling_rate"],
        alpha=get_config(model["name"], **model["overrides"]).alpha,
        target_fps=data["target_fps"], crop_size=data["crop_size"],
        short_side=tuple(data["short_side"]), test_short_side=data["test_short_side"],
        test_crop_size=None, flip=data["flip"], box_jitter=settings["box_jitter"],
        proposals=None if train else settings["proposals"],
        score_threshold=settings["score_threshold"],
        excluded=None if train else settings["excluded"], video_start=settings["video_start"],
        frame_fps=settings["frame_fps"], backend=data["backend"], cache=data["cache"],
        progress=progress)
    dataset.classnames = names
    return dataset


def detection_datasets(config: dict, progress: bool = False
                       ) -> tuple[AvaDataset, AvaDataset | None]:
    """The training and validation AvaDatasets of a detection config (None without data.val)."""
    val = detection_dataset(config, "val", progress) if config["data"]["val"] else None
    return detection_dataset(config, "train", progress), val


def detection_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each box's sigmoid outputs against its multi-hot actions (K, C)."""
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)


def box_top1_correct(logits: torch.Tensor, labels: torch.Tensor) -> int:
    """Boxes whose highest-scoring action is one of their actions."""
    if not len(labels):
        return 0
    return int(labels.gather(1, logits.argmax(1, keepdim=True)).sum().item())


def ground_truth(config: dict, dataset: AvaDataset) -> list[AvaBox]:
    """The annotation rows of `data.val`, less the excluded key frames and the missing videos
    (`dataset.missing`): what the detections are scored against. With proposals, a key frame
    where the person detector found nobody still counts: its people are missed."""
    excluded = read_excluded(path) if (path := ava_settings(config["data"])["excluded"]) else set()
    missing = set(dataset.missing)
    return [r for r in read_annotations(config["data"]["val"]) if r.action_id is not None
            and r.video_id not in missing and (r.video_id, r.timestamp) not in excluded]


@torch.no_grad()
def evaluate_detection(model: nn.Module, loader: DataLoader, dataset: AvaDataset,
                       truth: list[AvaBox], class_ids: list[int], device: torch.device,
                       autocast=nullcontext, channels_last: bool = False,
                       progress: bool = True) -> dict:
    """Frame-level mAP at IoU 0.5 of the model's scores for `dataset`'s boxes (ground truth or
    proposals) against `truth`; also the share of boxes whose top action is one of theirs
    (`top1`, None for proposals: they carry no actions) and the key frames and boxes scored."""
    was_training = model.training
    model.eval()
    arch = unwrap(model).cfg.arch
    detections, correct, labelled, boxes_seen, frames = [], 0, 0, 0, set()
    for inputs, boxes, labels, indices in tqdm(loader, desc="eval", leave=False,
                                               disable=not progress):
        with autocast():
            logits = model(model_inputs(inputs, arch, device, channels_last), boxes.to(device))
        probabilities = unwrap(model).head.probabilities(logits.float()).cpu()  # (K, C)
        known = labels.sum(1) > 0  # boxes with actions (ground truth; proposals have none)
        correct += box_top1_correct(logits.float().cpu()[known], labels[known])
        labelled += int(known.sum())
        boxes_seen += len(boxes)
        h, w = inputs[0].shape[-2:]
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        for row, p in zip(boxes, probabilities):
            key = dataset.key_frames[int(indices[int(row[0])])]
            frames.add((key.video_id, key.timestamp))
            columns = p[[c - 1 for c in class_ids]]
            detections += [AvaBox(key.video_id, key.timestamp,
                                  tuple(map(float, (row[1:] / scale).tolist())), c, score=float(s))
                           for c, s in zip(class_ids, columns.tolist())]
    model.train(was_training)
    result = frame_map(detections, truth, class_ids)
    return {"map": result["map"], "per_class": result["per_class"],
            "top1": correct / labelled if labelled else None, "key_frames": len(frames),
            "boxes": boxes_seen}
