"""The models the app offers, loaded once, each used by one request at a time.

- the embedded default: `slowfast_tiny` trained on the synthetic motion set (always, offline), with
  its domain check: the app says so when a clip is outside its world;
- "Kinetics-400 SlowFast 8x8 R50": offered only when its official weights *and* the 400 class names
  are already on this machine (`slowfast-edu weights download slowfast_8x8_r50` puts them there):
  the app never downloads anything; while they are missing, the menu says how to get them;
- a user checkpoint (`slowfast-edu demo --checkpoint FILE`), or a preset (`--model NAME`).

Each `AppModel` loads on first use (`load_model`) and keeps two copies of its network: the plain
one, which Grad-CAM needs (it takes gradients through the BatchNorms and hooks the res5 blocks),
and `optimize_for_inference`'s (BN folded, channels-last, fused ReLUs) for the top-5, which is
faster and gives the same probabilities. A lock per model makes requests take turns on it;
requests for different models run side by side.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..models import PRESETS, LoadedModel, build_model, find_weights, load_model
from ..models.loading import from_network
from ..models.weights import WeightsFiles, cache_dir

DEFAULT_LABEL = "Default: slowfast_tiny trained on the synthetic motion set"
KINETICS_NAME = "slowfast_8x8_r50"
KINETICS_LABEL = "Kinetics-400 SlowFast 8x8 R50"


@dataclass
class AppModel:
    """One entry of the model menu: a label and how to load it; loaded on first `get()`."""

    label: str
    loader: Callable[[], LoadedModel]
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one at a time
    _loaded: LoadedModel | None = field(default=None, repr=False)
    _loading: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self) -> LoadedModel:
        """The loaded model (its plain and inference networks, class names, view, domain)."""
        with self._loading:
            if self._loaded is None:
                loaded = self.loader()
                loaded.inference_network()  # made now, not inside a request's lock
                self._loaded = loaded
        return self._loaded

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._loaded is not None


def kinetics_files(name: str = KINETICS_NAME) -> WeightsFiles:
    """Where the checkpoint and class names of `name` are on this machine (None: missing)."""
    return find_weights(name)


def kinetics_cached(name: str = KINETICS_NAME) -> bool:
    """True when the published weights of `name` load without downloading."""
    return kinetics_files(name).complete


def missing_weights_note(name: str = KINETICS_NAME) -> str | None:
    """What the menu says while the Kinetics-400 weights are not here; None once they are."""
    if kinetics_cached(name):
        return None
    return (f"{KINETICS_LABEL if name == KINETICS_NAME else name} joins this menu once its "
            f"weights are downloaded (the app never downloads): `slowfast-edu weights download "
            f"{name}`, then restart the app.")


def _random(name: str) -> Callable[[], LoadedModel]:
    def load() -> LoadedModel:
        print(f"warning: {name} has random weights; its predictions mean nothing",
              file=sys.stderr)
        return from_network(build_model(name), f"{name} (random weights)")
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
                         lambda: load_model(checkpoint, model))
        entry.get()
        entries.append(entry)
    elif model is not None and model != KINETICS_NAME:
        cached = PRESETS[model].weights is not None and kinetics_cached(model)
        label = (f"{model} ({PRESETS[model].weights.dataset})" if cached
                 else f"{model} (random weights)")
        entry = AppModel(label, (lambda: load_model(model)) if cached else _random(model))
        entry.get()
        entries.append(entry)
    entries.append(AppModel(DEFAULT_LABEL, load_model))
    if kinetics_cached():
        entries.append(AppModel(KINETICS_LABEL, lambda: load_model(KINETICS_NAME)))
        if model == KINETICS_NAME and checkpoint is None:
            entries.insert(0, entries.pop())  # asked for by name: first in the menu
    elif model == KINETICS_NAME and checkpoint is None:
        weights = PRESETS[KINETICS_NAME].weights
        raise FileNotFoundError(
            f"--model {KINETICS_NAME}: the app never downloads, and {weights.file} or its class "
            f"names are not in {cache_dir()}; get them with `slowfast-edu weights download "
            f"{KINETICS_NAME}` (or `--from MIRROR` for a local mirror)")
    return {entry.label: entry for entry in entries}
