"""One way to get a model ready to answer, whatever you have: the embedded default, a preset whose
published weights are downloaded, a checkpoint file, or a model object.

`load_model(spec)` returns a `LoadedModel`: the network in eval mode with its class names, the
view it is tested at (`ClipGeometry`: frames, stride, crops), its normalisation, a label for
messages, and its domain check (`domain.py`) when it carries one. `predict`, `slowfast-edu
explain` and the app all start here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from .default import (EXPORT_KEYS, TRAINER_KEYS, build_checked, load_default_model,
                      load_exported, read_model_source)
from .domain import DomainCheck
from .geometry import ClipGeometry, clip_geometry
from .inference import optimize_for_inference
from .presets import PRESETS, build_model
from .weights import (CheckpointError, find_weights, load_checkpoint, load_pretrained,
                      load_weights, read_checkpoint)

MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)  # the Kinetics recipe, used by every preset


@dataclass
class LoadedModel:
    """A network ready to answer, with everything needed to read clips for it."""

    network: nn.Module  # in eval mode
    classnames: list[str]
    geometry: ClipGeometry  # the test view: frames, stride, short side, crop
    label: str  # e.g. "default model", "slowfast_8x8_r50 (Kinetics-400)"
    domain: DomainCheck | None = None  # None: no domain check (e.g. the Kinetics models)
    world: str = ""  # what the model was trained on, in words
    mean: tuple[float, ...] = MEAN
    std: tuple[float, ...] = STD
    _inference: nn.Module | None = field(default=None, repr=False)

    @property
    def arch(self) -> str:
        """"slowfast", "slow" or "fast": which pathway inputs the network takes."""
        return self.network.cfg.arch

    def inference_network(self) -> nn.Module:
        """`optimize_for_inference(network)`, made once: the same outputs, faster on a CPU."""
        if self._inference is None:
            try:
                self._inference = optimize_for_inference(self.network)
            except TypeError:  # a module it cannot fold: the plain network answers the same
                self._inference = self.network
        return self._inference


def from_network(network: nn.Module, label: str, geometry: ClipGeometry | None = None
                 ) -> LoadedModel:
    """A `LoadedModel` for a network object (class names from its `.classnames` if any)."""
    names = getattr(network, "classnames", None)
    classnames = list(names) if names else [str(i) for i in range(network.cfg.num_classes)]
    domain = getattr(network, "domain", None)
    world = domain.description if domain is not None else f"its {len(classnames)} classes"
    return LoadedModel(network.eval(), classnames, geometry or clip_geometry(network.cfg), label,
                       domain, world)


def geometry_from_data(geometry: ClipGeometry, data: dict) -> ClipGeometry:
    """A trainer config's `data` section (num_frames, sampling_rate, test sizes) as a view."""
    alpha = geometry.alpha
    changes = {"target_fps": data.get("target_fps"), "crop_size": data.get("crop_size"),
               "test_short_side": data.get("test_short_side"),
               "test_crop_size": data.get("test_crop_size")}
    if data.get("num_frames"):
        changes["slow_frames"] = max(1, int(data["num_frames"]) // alpha)
    if data.get("sampling_rate"):
        changes["tau"] = int(data["sampling_rate"]) * alpha
    return dataclasses.replace(geometry, **{k: type(getattr(geometry, k))(v)
                                            for k, v in changes.items() if v is not None})


def load_model(model: str | os.PathLike | nn.Module | None = None, arch: str | None = None
               ) -> LoadedModel:
    """The model `model` names: None (the embedded default), a preset whose published weights are
    in the cache, a checkpoint (from `slowfast-edu train` or `export`; a bare state dict needs
    `arch`, its preset), or an `nn.Module` built by this package."""
    if model is None:
        return from_network(load_default_model(), "default model")
    if isinstance(model, nn.Module):
        return from_network(model, getattr(model, "label", type(model).__name__))
    if isinstance(model, str) and model in PRESETS and not Path(model).exists():
        return _pretrained(model)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"{model} is neither a preset with published weights "
                                f"({', '.join(n for n, p in PRESETS.items() if p.weights)}) nor "
                                f"a checkpoint file")
    return _from_file(path, arch)


def _pretrained(name: str) -> LoadedModel:
    weights = PRESETS[name].weights
    if weights is None:
        raise ValueError(f"{name} has no published weights; give a checkpoint of it, or one of "
                         f"{', '.join(n for n, p in PRESETS.items() if p.weights)}")
    if not find_weights(name).complete:
        raise FileNotFoundError(f"the {weights.dataset} weights of {name} are not downloaded; "
                                f"get them with `slowfast-edu weights download {name}`")
    network = load_pretrained(name, progress=False, download=False)
    return LoadedModel(network, list(network.classnames), PRESETS[name].geometry,
                       f"{name} ({weights.dataset})", None,
                       f"{weights.dataset} ({weights.num_classes} human actions in YouTube videos)",
                       weights.mean, weights.std)


def _from_file(path: Path, arch: str | None) -> LoadedModel:
    state = read_checkpoint(path)  # a clear CheckpointError for anything unreadable
    keys = set(state) if isinstance(state, dict) else set()
    if EXPORT_KEYS <= keys:
        return from_network(load_exported(path), f"{path.name}")
    if TRAINER_KEYS <= keys:
        weights, classnames, section, _ = read_model_source(path, state)
        if arch is not None and arch != section["name"]:
            section = {"name": arch, "overrides": {}}
        network = build_checked(path, weights, classnames, section)
        network.classnames = classnames
        data = state["config"].get("data") or {}
        geometry = geometry_from_data(clip_geometry(network.cfg), data)
        return from_network(network, f"{section['name']} ({path.name})", geometry)
    if arch is None:
        raise CheckpointError(f"{path} does not say which model it holds (no config); give "
                              f"the preset of its architecture (--model NAME)")
    tensors = load_checkpoint(path)
    heads = [v for k, v in tensors.items() if k.endswith("proj.weight") and v.dim() == 2]
    network = load_weights(build_model(arch, num_classes=heads[-1].shape[0] if heads else 400),
                           tensors)
    return from_network(network, f"{arch} ({path.name})")
