"""The embedded default model: a `slowfast_tiny` trained on the synthetic motion set, shipped
inside the package so the app and the notebooks work offline, with nothing to download.

It is made by `make default-model` (generate the synthetic set at 64 x 64, train with
configs/default_model.yaml and its seed, then `export_checkpoint`): `slowfast_tiny` without
pool1, whose res5 maps are 8 x 8, fine enough for its Grad-CAM to show where the object is. To
fit in a few MB, the file stores each convolution and linear weight as int8 with one float scale
per output channel (w ~ scale * q, q in [-127, 127]) and the other tensors in float16; they are
float32 again once loaded. It also holds the class names, the preset and its overrides, and how
it was trained.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .presets import build_model

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.pt"


def export_checkpoint(checkpoint: str | Path, out: str | Path, half: bool = True,
                      info: dict | None = None) -> Path:
    """Write a trainer checkpoint's weights, class names and model settings as a small file."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    missing = {"model_state", "classnames", "config"} - set(state)
    if missing:
        raise ValueError(f"{checkpoint} is not a checkpoint written by slowfast-edu train "
                         f"(missing {', '.join(sorted(missing))})")
    weights = {k: _compress(v) if half else v for k, v in state["model_state"].items()}
    model = state["config"]["model"]
    asset = {"model_state": weights, "classnames": list(state["classnames"]),
             "model": {"name": model["name"], "overrides": dict(model["overrides"])},
             "info": {"step": state.get("step"), "epoch": state.get("epoch"),
                      "best_top1": state.get("best_top1"), "seed": state["config"].get("seed"),
                      **(info or {})}}
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
    """A model from an `export_checkpoint` file, in eval mode, with `.classnames` and `.info`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    asset = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(asset["model"]["name"], num_classes=len(asset["classnames"]),
                        **asset["model"]["overrides"])
    model.load_state_dict({k: _expand(v) for k, v in asset["model_state"].items()})
    model.classnames, model.info = asset["classnames"], asset["info"]
    return model.eval()


def load_default_model() -> nn.Module:
    """The embedded `slowfast_tiny` trained on the synthetic motion set (offline, ~3 MB)."""
    if not DEFAULT_MODEL.is_file():
        raise FileNotFoundError(f"the default model file {DEFAULT_MODEL} is missing from this "
                                f"installation; rebuild it with `make default-model`")
    return load_exported(DEFAULT_MODEL)
