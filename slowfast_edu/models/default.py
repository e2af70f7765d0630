"""The embedded default model: a `slowfast_tiny` trained on the synthetic motion set, shipped
inside the package so the app and the notebooks work offline, with nothing to download.

It is made by `make default-model` (generate the synthetic set at 64 x 64, train with
configs/default_model.yaml and its seed, then `slowfast-edu export`): `slowfast_tiny` without
pool1, whose res5 maps are 8 x 8, fine enough for its Grad-CAM to show where the object is. To
fit in a few MB, the file stores each convolution and linear weight as int8 with one float scale
per output channel (w ~ scale * q, q in [-127, 127]) and the other tensors in float16; they are
float32 again once loaded. It also holds the class names, the preset and its overrides, how it
was trained, and the statistics that tell a clip of its world from any other (`domain.py`):
`model.domain`, None for a model exported without them.

The embedded default *detector* is the same kind of file: `slowfast_tiny_detection` trained on
the synthetic detection set (`make default-detector`, configs/default_detector.yaml), with a
domain check fitted on the pooled features of its boxes (`calibrate_detection.py`); the app's
detection mode loads it with `load_default_detector()`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .domain import DomainCheck
from .presets import build_model
from .weights import CheckpointError, fit_problems, read_checkpoint

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.pt"
DEFAULT_DETECTOR = DEFAULT_MODEL.with_name("default_detector.pt")
TRAINER_KEYS = {"model_state", "classnames", "config"}  # what `slowfast-edu train` writes
EXPORT_KEYS = {"model_state", "classnames", "model"}  # what `export_int8` writes


def read_model_source(path: str | Path, state: object = None
                      ) -> tuple[dict, list[str], dict, dict]:
    """(float32 state dict, class names, {"name", "overrides"}, info) of a trainer checkpoint or
    an exported model file (`state`: what it holds, when already read); `CheckpointError` naming
    the file for anything else."""
    state = read_checkpoint(path) if state is None else state
    keys = set(state) if isinstance(state, dict) else set()
    if EXPORT_KEYS <= keys and isinstance(state["model"], dict):
        try:
            weights = {k: _expand(v) for k, v in state["model_state"].items()}
        except (AttributeError, KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: its weights are damaged ({e!r})") from None
        section, info = state["model"], dict(state.get("info") or {})
    elif TRAINER_KEYS <= keys and isinstance(state["config"], dict):
        weights, section = state["model_state"], state["config"].get("model") or {}
        info = {"step": state.get("step"), "epoch": state.get("epoch"),
                "best_top1": state.get("best_top1"), "seed": state["config"].get("seed")}
    else:
        found = sorted(map(str, keys))[:10] if keys else type(state).__name__
        raise CheckpointError(f"{path} is neither a checkpoint written by slowfast-edu train (with "
                              f"model_state, classnames, config) nor a model file written by "
                              f"slowfast-edu export; it holds {found}")
    if "name" not in section:
        raise CheckpointError(f"{path} does not say which preset it holds (no model name)")
    model = {"name": section["name"], "overrides": dict(section.get("overrides") or {})}
    return weights, list(state["classnames"]), model, info


def build_checked(path: str | Path, weights: dict, classnames: list[str], model: dict
                  ) -> nn.Module:
    """The preset `model` names with `weights` loaded; `CheckpointError` if they do not fit."""
    try:
        network = build_model(model["name"], num_classes=len(classnames), **model["overrides"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: cannot build its model: {e}") from None
    problems = fit_problems(network, weights)
    if problems:
        raise CheckpointError(f"{path}: its weights are not those of the {model['name']} it "
                              f"names (overrides {model['overrides']}, {len(classnames)} "
                              f"classes):\n" + "\n".join(problems))
    network.load_state_dict(weights, strict=False)
    return network


def export_int8(source: str | Path, out: str | Path, domain: DomainCheck | None = None,
                info: dict | None = None) -> Path:
    """Write a trainer checkpoint's (or an exported file's) model as int8 weights with per-channel
    scales, with its class names, settings and `domain` statistics; checked before writing."""
    weights, classnames, model, saved = read_model_source(source)
    network = build_checked(source, weights, classnames, model)  # refuses a mismatched file
    asset = {"model_state": {k: _compress(v) for k, v in network.state_dict().items()},
             "classnames": classnames, "model": model, "info": {**saved, **(info or {})}}
    if domain is not None:
        asset["domain"] = domain.state()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(asset, out)
    return out


def _compress(t: torch.Tensor):
    """int8 with a per-output-channel scale for weights (2D and up), float16 for the rest."""
    if not t.is_floating_point():
        return t
    if t.dim() < 2:
        return t.half()
    scale = t.abs().amax(dim=tuple(range(1, t.dim())), keepdim=True).clamp(min=1e-12) / 127
    return {"q": torch.round(t / scale).to(torch.int8), "scale": scale.float()}


def _expand(t) -> torch.Tensor:
    if isinstance(t, dict):  # an int8 weight
        return t["q"].float() * t["scale"]
    return t.float() if t.is_floating_point() else t


def load_exported(path: str | Path) -> nn.Module:
    """A model from an `export_int8` file, in eval mode, with `.classnames`, `.info` and
    `.domain` (a `DomainCheck`, or None)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    state = read_checkpoint(path)
    if not (isinstance(state, dict) and EXPORT_KEYS <= set(state)):
        raise CheckpointError(f"{path} is not a model file written by slowfast-edu export "
                              f"(expected {', '.join(sorted(EXPORT_KEYS))})")
    weights, classnames, model, info = read_model_source(path, state)
    network = build_checked(path, weights, classnames, model)
    network.classnames, network.info = classnames, info
    try:
        network.domain = DomainCheck.from_state(state["domain"]) if "domain" in state else None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: its domain statistics are damaged ({e!r})") from None
    return network.eval()


def load_default_model() -> nn.Module:
    """The embedded `slowfast_tiny` trained on the synthetic motion set (offline, ~3 MB)."""
    if not DEFAULT_MODEL.is_file():
        raise FileNotFoundError(f"the default model file {DEFAULT_MODEL} is missing from this "
                                f"installation; rebuild it with `make default-model`")
    return load_exported(DEFAULT_MODEL)


def load_default_detector() -> nn.Module:
    """The embedded `slowfast_tiny_detection` trained on the synthetic detection set (offline,
    ~3 MB): `model([slow, fast], boxes)` scores moving_left, moving_right, staying_still."""
    if not DEFAULT_DETECTOR.is_file():
        raise FileNotFoundError(f"the default detector file {DEFAULT_DETECTOR} is missing from "
                                f"this installation; rebuild it with `make default-detector`")
    return load_exported(DEFAULT_DETECTOR)
