"""The embedded default model: a `slowfast_tiny` trained on the synthetic motion set, shipped
inside the package so the app and the notebooks work offline, with nothing to download.

It is made by `make default-model` (generate the synthetic set, train with
configs/synthetic_tiny_cpu.yaml and its seed, then `export_checkpoint`). The file holds the
weights in float16 (half the size; they are float32 again once loaded), the class names, the
preset and its overrides, and how it was trained.
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
    weights = {k: (v.half() if half and v.is_floating_point() else v)
               for k, v in state["model_state"].items()}
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


def load_exported(path: str | Path) -> nn.Module:
    """A model from an `export_checkpoint` file, in eval mode, with `.classnames` and `.info`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    asset = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(asset["model"]["name"], num_classes=len(asset["classnames"]),
                        **asset["model"]["overrides"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in asset["model_state"].items()})
    model.classnames, model.info = asset["classnames"], asset["info"]
    return model.eval()


def load_default_model() -> nn.Module:
    """The embedded `slowfast_tiny` trained on the synthetic motion set (offline, ~4 MB)."""
    if not DEFAULT_MODEL.is_file():
        raise FileNotFoundError(f"the default model file {DEFAULT_MODEL} is missing from this "
                                f"installation; rebuild it with `make default-model`")
    return load_exported(DEFAULT_MODEL)
