"""Checkpoints that survive being killed: written to a temporary file, then renamed into place.

A checkpoint holds everything needed to continue as if never stopped: weights, optimizer state
(momentum buffers), the step and epoch, the best score so far, the AMP scaler, and the random
number generators' states. Reading one never runs code (`weights_only=True`), and `--resume`
checks that it is one of ours, of the same network, before any video is decoded.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models import CheckpointError, build_network, get_config

# what `Trainer._state` writes; a file without these was not written by the trainer
TRAINING_KEYS = ("model_state", "optimizer", "scaler", "epoch", "batch_in_epoch", "step",
                 "best_top1", "rows", "sums", "rng", "config", "classnames")


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write `state` to `path` atomically: a reader sees the old file or the new one, never half;
    a failed write (full disk, no permission) leaves the old file and no temporary one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    return path


def load_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint (tensors, numbers and RNG states only); `CheckpointError` says why not."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            state = torch.load(path, map_location="cpu", weights_only=True)  # never runs code
    except Exception as e:  # a truncated, foreign or hostile file: say which and why
        code = re.search(r"GLOBAL (\S+)", str(e))
        if code:
            raise CheckpointError(f"{path} contains pickled code ({code.group(1)}), so it was not "
                                  f"written by slowfast-edu train; refusing to load it") from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: truncated or not a PyTorch "
                              f"checkpoint ({first})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a checkpoint")
    return state


def check_resumable(state: dict[str, Any], path: str | Path, config: dict) -> None:
    """Raise `CheckpointError` unless `state` is a trainer checkpoint of the network `config`
    trains (same preset and settings, same weight shapes): checked on the meta device."""
    missing = [k for k in TRAINING_KEYS if k not in state]
    if missing:
        what = "a bare state dict of weights" if all(
            isinstance(v, torch.Tensor) for v in state.values()) else "another program's file"
        raise CheckpointError(
            f"{path} is not a checkpoint written by slowfast-edu train (it has no "
            f"{', '.join(missing[:4])}: {what}?); --resume continues a run of the trainer. To "
            f"start a new run from its weights, train without --resume, with another --out and "
            f"model.pretrained={path}")
    theirs, ours = state["config"].get("model", {}), config["model"]
    num_classes = len(state["classnames"])
    try:
        run = get_config(theirs.get("name", "?"), num_classes, **theirs.get("overrides", {}))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: its model cannot be built here ({e})") from None
    wanted = get_config(ours["name"], num_classes, **ours["overrides"])
    changed = [f"{f.name} {getattr(run, f.name)!r} there, {getattr(wanted, f.name)!r} here"
               for f in dataclasses.fields(run) if getattr(run, f.name) != getattr(wanted, f.name)
               and f.name != "crop_size"]  # the size of the frames is not the network's
    if theirs.get("name") != ours["name"] or changed:
        raise CheckpointError(
            f"{path} is a run of {theirs.get('name')} and this config trains {ours['name']}"
            + (f" ({'; '.join(changed[:4])})" if changed else "")
            + ": resume with the config that run used, or give another --out")
    with torch.device("meta"):
        expected = build_network(wanted).state_dict()
    weights = state["model_state"]
    wrong = [k for k in expected if k not in weights or weights[k].shape != expected[k].shape]
    if wrong or set(weights) - set(expected):
        raise CheckpointError(f"{path}: its weights do not fit {ours['name']} (e.g. "
                              f"{(wrong or sorted(set(weights) - set(expected)))[0]}); resume "
                              f"with the config that run used, or give another --out")


def rng_state() -> dict[str, Any]:
    """The state of every random number generator training uses."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(),
             "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
