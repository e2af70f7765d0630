"""Training configuration: small YAML files in configs/, overridable with `key=value` pairs.

Every key has a default here, so a config file says only what differs, and a typo is an error
rather than a silently ignored setting.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "model": {
        "name": "slowfast_tiny",  # a preset of slowfast_edu.list_models()
        "overrides": {},  # SlowFastConfig fields, e.g. {beta_inv: 4}
        "pretrained": None,  # "kinetics400" (official zoo weights) or a checkpoint path
    },
    "data": {
        "train": None,  # a video list KineticsDataset reads (CSV, annotations, or folder)
        "val": None,
        "video_root": None,
        "classnames": None,
        "num_frames": 32,  # Fast pathway frames
        "sampling_rate": 2,  # Fast pathway stride at target_fps
        "target_fps": 30,
        "crop_size": 224,
        "short_side": [256, 320],
        "flip": True,  # random horizontal flips in training (off when left/right is the label)
        "test_short_side": 256,
        "test_crop_size": 256,
        "val_clips": 1,  # views while training (single view); `eval` uses eval_clips x eval_crops
        "val_crops": 1,
        "eval_clips": 10,
        "eval_crops": 3,
        "num_workers": 2,
        "backend": "auto",
        "cache": False,  # decode every video once into memory (small sets: the synthetic one)
    },
    "optim": {
        "base_lr": 0.1,  # for `reference_batch` clips; scaled linearly with the real batch
        "reference_batch": 64,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 1e-4,  # not on BN parameters and biases
        "warmup_epochs": 0.0,
        "warmup_start_factor": 0.1,  # warm-up starts at this fraction of the peak lr
        "final_lr_factor": 0.0,  # cosine ends here
    },
    "train": {
        "epochs": 10,
        "batch_size": 8,  # per process
        "accumulate": 1,  # gradient accumulation steps
        "max_steps": None,  # stop early after this many optimizer steps (smoke runs)
        "checkpoint_every": 0,  # also save last.pt every N steps (0: at epoch ends only)
        "precise_bn_batches": 0,  # recompute BN statistics on this many batches before eval
        "eval_every": 1,  # epochs
        "amp": "auto",  # "auto": bf16 on CUDA where supported, else fp16 with a scaler; CPU: off
        "channels_last": True,  # CUDA only
        "compile": False,
        "sync_bn": False,  # DDP
        "threads": None,  # torch threads of the training process (None: torch's default). On a
        #                   2-core laptop, 1 thread + 1 data worker beats 2 threads fighting it
    },
}


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict:
    """DEFAULTS, updated by the YAML file at `path`, then by `key.sub=value` strings."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no config file at {path}")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config is a mapping of sections, got {type(loaded)}")
        _merge(config, loaded, str(path))
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} is not key=value (e.g. train.epochs=2)")
        nested: dict = {}
        cursor = nested
        *parents, last = key.split(".")
        for part in parents:
            cursor = cursor.setdefault(part, {})
        cursor[last] = yaml.safe_load(value)
        _merge(config, nested, f"override {item!r}")
    return config


def _merge(base: dict, update: dict, origin: str, prefix: str = "") -> None:
    for key, value in update.items():
        if key not in base:
            raise KeyError(f"{origin}: unknown setting '{prefix}{key}'; known: "
                           f"{', '.join(prefix + k for k in base)}")
        if isinstance(base[key], dict) and key != "overrides":
            if not isinstance(value, dict):
                raise ValueError(f"{origin}: {prefix}{key} is a section, not {value!r}")
            _merge(base[key], value, origin, f"{prefix}{key}.")
        elif key == "overrides":
            base[key] = {**base[key], **(value or {})}
        else:
            base[key] = _number(value) if isinstance(base[key], (int, float, type(None))) \
                and not isinstance(base[key], bool) else value


def _number(value: Any) -> Any:
    """PyYAML reads `1e-4` as a string (YAML 1.1 wants `1.0e-4`): make such strings numbers."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
