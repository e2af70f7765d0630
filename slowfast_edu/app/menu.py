"""The models the app offers, loaded once, each used by one request at a time.

- the embedded default: `slowfast_tiny` trained on the synthetic motion set (always, offline);
- "Kinetics-400 SlowFast 8x8 R50": offered only when its official weights *and* the 400 class names
  are already in `cache_dir()` (put there by `load_pretrained` once, or by hand): the app never
  downloads anything;
- a user checkpoint (`slowfast-edu demo --checkpoint FILE`), or a preset (`--model NAME`).

Each `AppModel` loads on first use and keeps two copies of its network: the plain one, which
Grad-CAM needs (it takes gradients through the BatchNorms and hooks the res5 blocks), and
`optimize_for_inference`'s (BN folded, channels-last, fused ReLUs) for the top-5, which is faster
and gives the same probabilities. A lock per model makes requests take turns on it; requests for
different models run side by side.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..explain.cli import load_explain_model, preset_view
from ..models import PRESETS, load_pretrained, optimize_for_inference
from ..models.weights import CLASSNAMES_URL, cache_dir

DEFAULT_LABEL = "Default: slowfast_tiny trained on the synthetic motion set"
KINETICS_NAME = "slowfast_8x8_r50"
KINETICS_LABEL = "Kinetics-400 SlowFast 8x8 R50"

Loader = Callable[[], tuple[nn.Module, list[str] | None, dict]]  # model, class names, view


@dataclass
class AppModel:
    """One entry of the model menu: a label and how to load it; loaded on first `get()`."""

    label: str
    loader: Loader
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one at a time
    _loaded: tuple | None = field(default=None, repr=False)
    _loading: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self) -> tuple[nn.Module, nn.Module, list[str], dict]:
        """(plain model, inference model, class names, view settings), loading them once."""
        with self._loading:
            if self._loaded is None:
                model, classnames, view = self.loader()
                model = model.eval()
                names = list(classnames) if classnames else [
                    str(i) for i in range(model.cfg.num_classes)]
                self._loaded = (model, optimize_for_inference(model), names, view)
        return self._loaded

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._loaded is not None


def kinetics_files(name: str = KINETICS_NAME) -> tuple[Path, Path]:
    """Where `load_pretrained(name)` keeps its checkpoint and the class names."""
    url = os.environ.get("SLOWFAST_EDU_CLASSNAMES_URL") or CLASSNAMES_URL
    names = Path(urllib.parse.urlparse(url).path).name or "kinetics_classnames.json"
    return cache_dir() / PRESETS[name].checkpoint, cache_dir() / names


def kinetics_cached(name: str = KINETICS_NAME) -> bool:
    """True when `load_pretrained(name)` would find both of its files without downloading."""
    return all(path.is_file() for path in kinetics_files(name))


def _pretrained(name: str) -> Loader:
    def load() -> tuple[nn.Module, list[str], dict]:
        model = load_pretrained(name, progress=False)  # both files are cached: no download
        return model, list(model.classnames), preset_view(model.cfg)
    return load


def _explain_loader(checkpoint: str | None, name: str | None) -> Loader:
    def load() -> tuple[nn.Module, list[str] | None, dict]:
        model, classnames, view, _ = load_explain_model(checkpoint, name)
        return model, classnames, view
    return load


def available_models(checkpoint: str | None = None, model: str | None = None
                     ) -> dict[str, AppModel]:
    """The menu, {label: AppModel}, the command line's choice first (loaded now, so a bad
    checkpoint fails at start-up), then the default, then Kinetics-400 when cached."""
    if model is not None and model not in PRESETS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(PRESETS)}")
    entries: list[AppModel] = []
    if checkpoint is not None:
        entry = AppModel(f"{Path(checkpoint).name} (your checkpoint)",
                         _explain_loader(checkpoint, model))
        entry.get()
        entries.append(entry)
    elif model is not None and model != KINETICS_NAME:
        cached = PRESETS[model].checkpoint and kinetics_cached(model)
        label = f"{model} (Kinetics-400)" if cached else f"{model} (random weights)"
        entry = AppModel(label, _pretrained(model) if cached else _explain_loader(None, model))
        entry.get()
        entries.append(entry)
    entries.append(AppModel(DEFAULT_LABEL, _explain_loader(None, None)))
    if kinetics_cached():
        entries.append(AppModel(KINETICS_LABEL, _pretrained(KINETICS_NAME)))
        if model == KINETICS_NAME and checkpoint is None:
            entries.insert(0, entries.pop())  # asked for by name: first in the menu
    elif model == KINETICS_NAME and checkpoint is None:
        weights, names = kinetics_files()
        raise FileNotFoundError(
            f"--model {KINETICS_NAME}: the app never downloads; put the official weights at "
            f"{weights} and the class names at {names} (e.g. run `python -c \"import "
            f"slowfast_edu; slowfast_edu.load_pretrained('{KINETICS_NAME}')\"` once online)")
    return {entry.label: entry for entry in entries}
