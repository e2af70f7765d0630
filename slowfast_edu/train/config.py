"""Training configuration: small YAML files, overridable with `key=value` pairs.

Every key has a default here, so a config file says only what differs; a typo, or a value of the
wrong type or out of range, is a `ConfigError` that names the key. The configs the project ships
are package data (`slowfast_edu/configs/`, also reachable as `configs/` in a checkout): a bare name
such as `synthetic_tiny_cpu` finds one from any folder.

The clip a model wants is the model's own (`slowfast_edu.models.clip_geometry`): `resolve_config`
fills the data section's `num_frames`, `sampling_rate`, `target_fps` and the test view from the
model's config, and refuses a data section that contradicts it, naming the keys. Only the spatial
size may differ from the preset's, because the networks are fully convolutional: a `data.crop_size`
becomes the model's `crop_size` (recorded under `model.overrides`, so that checkpoints, `predict`
and the app read clips at the size it was trained on); `model.overrides.crop_size` says the same
thing, and the two may not disagree.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

from ..models import clip_geometry, get_config
from ..models.geometry import PAPER_CROP

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"  # the shipped configs


class ConfigError(ValueError):
    """A config that cannot be used: the message names the key and says what it should be."""


DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "model": {
        "name": "slowfast_tiny",  # a preset of slowfast_edu.list_models()
        "overrides": {},  # SlowFastConfig fields, e.g. {beta_inv: 4}
        "head": None,  # "multilabel": a sigmoid per class and BCE on multi-label lists
        #                (train/multilabel.py); None: the preset's (a softmax classifier)
        "pretrained": None,  # "kinetics400" (official zoo weights) or a checkpoint path
    },
    "data": {
        "train": None,  # a video list KineticsDataset reads (CSV, annotations, or folder)
        "val": None,
        "video_root": None,
        "classnames": None,
        # The clip geometry: left out (None), each is derived from the model (alpha * T frames
        # every tau / alpha at 30 fps; test view from its crop_size); given, it must agree.
        "num_frames": None,
        "sampling_rate": None,
        "target_fps": None,
        "crop_size": None,  # may differ from the preset's: the model is then trained at it
        "test_short_side": None,
        "test_crop_size": None,
        "short_side": None,  # training scale jitter [min, max]; None: [256, 320] for the
        #                      paper's 224 crops, no rescaling ([crop, crop]) for small ones
        "flip": True,  # random horizontal flips in training (off when left/right is the label)
        "val_clips": 1,  # views while training (single view); `eval` uses eval_clips x eval_crops
        "val_crops": 1,
        "eval_clips": 10,
        "eval_crops": 3,
        "num_workers": 2,
        # how DataLoader workers start: a process forked after threaded decoding in the main
        # process (decord, FFmpeg) can hang, so "spawn" (a fresh interpreter) unless told "fork"
        "multiprocessing_context": "spawn",
        "backend": "auto",
        "cache": False,  # decode every video once into memory (small sets: the synthetic one)
        # the synthetic motion set: when data.train is missing, generate it there first with
        # these settings ({train_per_class, val_per_class, frames, size, seed}, as
        # `slowfast-edu data synthetic`)
        "synthetic": None,
        # detection (a `*_detection` model): AVA-format settings, see train/detection.py
        "ava": None,
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
        "lr_steps": None,  # {epoch: factor of base_lr from then on, the first 0}: steps, not cosine
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
# the type of each setting whose default is None (the others have their default's type)
OPTIONAL: dict[str, type] = {
    "model.pretrained": str, "model.head": str, "data.train": str, "data.val": str,
    "data.video_root": str,
    "data.classnames": str, "data.num_frames": int, "data.sampling_rate": int,
    "data.target_fps": float, "data.crop_size": int, "data.test_short_side": int,
    "data.test_crop_size": int, "data.short_side": list, "data.synthetic": dict, "data.ava": dict,
    "train.max_steps": int, "train.threads": int, "optim.lr_steps": dict,
}
CHOICES: dict[str, tuple] = {
    "train.amp": ("auto", "bf16", "fp16", "off", True, False),
    "data.backend": ("auto", "decord", "pyav"),
    "data.multiprocessing_context": ("spawn", "forkserver", "fork"),
}
MINIMUM: dict[str, float] = {
    "train.epochs": 1, "train.batch_size": 1, "train.accumulate": 1, "train.max_steps": 1,
    "train.checkpoint_every": 0, "train.precise_bn_batches": 0, "train.eval_every": 1,
    "train.threads": 1, "data.num_frames": 1, "data.sampling_rate": 1, "data.target_fps": 1,
    "data.crop_size": 1, "data.test_short_side": 1, "data.test_crop_size": 1,
    "data.val_clips": 1, "data.val_crops": 1, "data.eval_clips": 1, "data.eval_crops": 1,
    "data.num_workers": 0, "optim.base_lr": 0, "optim.reference_batch": 1, "optim.momentum": 0,
    "optim.weight_decay": 0, "optim.warmup_epochs": 0, "optim.warmup_start_factor": 0,
    "optim.final_lr_factor": 0,
}
SYNTHETIC_KEYS = ("train_per_class", "val_per_class", "frames", "size", "seed")


def shipped_configs() -> list[str]:
    """The names of the configs that ship with the package."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def find_config(path: str | Path) -> Path:
    """`path` if it is a file, else the shipped config of that name (`synthetic_tiny_cpu`,
    `synthetic_tiny_cpu.yaml` or `configs/synthetic_tiny_cpu.yaml` from any folder)."""
    path = Path(path)
    if path.is_file():
        return path
    shipped = CONFIG_DIR / f"{path.name.removesuffix('.yaml')}.yaml"
    if path.parent in (Path("."), Path("configs")) and shipped.is_file():
        return shipped
    close = difflib.get_close_matches(path.name.removesuffix(".yaml"), shipped_configs(), 1)
    raise ConfigError(f"no config file at {path}"
                      + (f" (did you mean {close[0]}?)" if close else "")
                      + f"; the shipped configs are {', '.join(shipped_configs())} (give one by "
                        f"name, from any folder)")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict:
    """DEFAULTS, updated by the YAML file at `path` (or a shipped config's name), then by
    `key.sub=value` strings; every value is checked against its default's type."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = find_config(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path} is not valid YAML: {e}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a config is a mapping of sections, got "
                              f"{type(loaded).__name__}")
        _merge(config, loaded, str(path))
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value (e.g. train.epochs=2)")
        nested: dict = {}
        cursor = nested
        *parents, last = key.split(".")
        for part in parents:
            cursor = cursor.setdefault(part, {})
        try:
            cursor[last] = yaml.safe_load(value)
        except yaml.YAMLError:
            cursor[last] = value  # not YAML: a plain string, checked like any other value
        _merge(config, nested, f"override {item!r}")
    return config


def _merge(base: dict, update: dict, origin: str, prefix: str = "") -> None:
    for key, value in update.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{origin}: unknown setting '{name}'; known: "
                              f"{', '.join(prefix + k for k in base)}")
        if name == "model.overrides":
            if not isinstance(value, (dict, type(None))):
                raise ConfigError(f"{origin}: {name} is a mapping of model settings, e.g. "
                                  f"{{beta_inv: 4}}; got {value!r}")
            base[key] = {**base[key], **(value or {})}
        elif name in DEFAULTS_FLAT:  # a setting
            value = _checked(name, value, DEFAULTS_FLAT[name], origin)
            if isinstance(value, dict) and isinstance(base[key], dict) and name != "optim.lr_steps":
                value = {**base[key], **value}  # data.synthetic={frames: 16} changes one
            base[key] = value
        else:  # a section
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {name} is a section, not {value!r}")
            _merge(base[key], value, origin, f"{name}.")


def _checked(name: str, value: Any, default: Any, origin: str) -> Any:
    """`value` for setting `name` if it has the right type and range, else a ConfigError."""
    expected = OPTIONAL.get(name, type(default))
    shown = f"(default {default!r})"
    if name in CHOICES:
        if not any(value == c and type(value) is type(c) for c in CHOICES[name]):
            raise ConfigError(f"{origin}: {name} must be one of "
                              f"{', '.join(map(repr, CHOICES[name]))} {shown}, got {value!r}")
        return value
    if value is None:
        if name in OPTIONAL:
            return None
        raise ConfigError(f"{origin}: {name} cannot be null {shown}")
    if expected is float and isinstance(value, str):
        try:  # PyYAML reads `1e-4` as a string (YAML 1.1 wants `1.0e-4`)
            value = float(value)
        except ValueError:
            pass
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    kinds = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             list: "a list [min, max] of two integers", dict: "a mapping"}
    wrong = not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))
    if expected is list and not wrong:
        wrong = (len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                              and v >= 1 for v in value) or value[0] > value[1])
    if wrong:
        raise ConfigError(f"{origin}: {name} must be {kinds[expected]} {shown}, got {value!r}")
    if name in MINIMUM and value < MINIMUM[name]:
        raise ConfigError(f"{origin}: {name} must be at least {MINIMUM[name]:g} {shown}, "
                          f"got {value!r}")
    if name == "optim.lr_steps":
        number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
        if not (0 in value and all(number(e) and e >= 0 and number(f) and f > 0
                                   for e, f in value.items())):
            raise ConfigError(f"{origin}: optim.lr_steps maps epochs (from 0) to positive "
                              f"factors of base_lr, e.g. {{0: 1, 10: 0.1, 15: 0.01}}; "
                              f"got {value!r}")
    if name == "data.synthetic" and set(value) - set(SYNTHETIC_KEYS):
        raise ConfigError(f"{origin}: data.synthetic takes {', '.join(SYNTHETIC_KEYS)}; got "
                          f"{', '.join(sorted(set(value) - set(SYNTHETIC_KEYS)))}")
    return value


def _flatten(section: dict, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in section.items():
        if isinstance(value, dict) and key != "overrides" and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


DEFAULTS_FLAT = _flatten(DEFAULTS)
GEOMETRY_KEYS = ("num_frames", "sampling_rate", "target_fps", "crop_size", "test_short_side",
                 "test_crop_size")


def resolve_config(config: dict) -> dict:
    """A copy of `config` whose data section holds the model's clip geometry: derived where left
    out, checked where given (a `ConfigError` names the keys that disagree)."""
    config = copy.deepcopy(config)
    model, data = config["model"], config["data"]
    overrides = dict(model["overrides"])
    if data["crop_size"] is not None:
        pinned = overrides.get("crop_size")
        if pinned is not None and pinned != data["crop_size"]:
            raise ConfigError(f"data.crop_size={data['crop_size']} and model.overrides.crop_size="
                              f"{pinned} disagree: the model is trained at its crop size; give "
                              f"one of them")
    if model["head"] is not None:  # model.head is said here, in the model's overrides
        if overrides.get("head", model["head"]) != model["head"]:
            raise ConfigError(f"model.head={model['head']} and model.overrides.head="
                              f"{overrides['head']} disagree; give one of them")
        overrides["head"] = model["head"]
    try:
        preset = get_config(model["name"], **overrides)
        if data["crop_size"] is not None and data["crop_size"] != preset.crop_size:
            overrides["crop_size"] = data["crop_size"]  # the model is trained at the data's crop
        cfg = get_config(model["name"], **overrides)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"model: {e}") from None
    geometry = clip_geometry(cfg)
    wanted = {key: getattr(geometry, key) for key in GEOMETRY_KEYS}
    disagree = [f"data.{key}={data[key]!r} (the model's: {value!r})" for key, value in
                wanted.items() if data[key] is not None and data[key] != value]
    if disagree:
        raise ConfigError(
            f"the data section contradicts the clip {model['name']} wants "
            f"({describe_clip(geometry)}): {'; '.join(disagree)}. Leave these keys out (they are "
            f"derived from the model){_suggestion(data, geometry)}")
    data.update(wanted)
    side = data["short_side"] or ([256, 320] if geometry.crop_size >= PAPER_CROP
                                  else [geometry.crop_size] * 2)
    if side[0] < geometry.crop_size:
        raise ConfigError(f"data.short_side={side} is smaller than the crop ({geometry.crop_size} "
                          f"pixels): frames resized that small cannot be cropped")
    data["short_side"] = list(side)
    model["overrides"] = overrides
    return config


def _suggestion(data: dict, geometry) -> str:
    """", or say it in the model: model.overrides={...}" for the frames the data section asked."""
    alpha, wanted = geometry.alpha, {}
    if data["num_frames"] is not None and data["num_frames"] % alpha == 0:
        wanted["slow_frames"] = data["num_frames"] // alpha  # T = frames / alpha
    if data["sampling_rate"] is not None:
        wanted["tau"] = data["sampling_rate"] * alpha  # tau = stride * alpha
    wanted = {k: v for k, v in wanted.items() if v != getattr(geometry, k)}
    if not wanted:
        return ""
    return (", or say it in the model: model.overrides={"
            + ", ".join(f"{k}: {v}" for k, v in wanted.items()) + "}")


def describe_clip(geometry) -> str:
    """The clip of a `ClipGeometry` in words: frames, stride, crops."""
    return (f"{geometry.num_frames} frames every {geometry.sampling_rate} at "
            f"{geometry.target_fps:g} fps (alpha={geometry.alpha} x T={geometry.slow_frames}, "
            f"tau={geometry.tau}), crops of {geometry.crop_size} px, tested at short side "
            f"{geometry.test_short_side}, crop {geometry.test_crop_size}")
