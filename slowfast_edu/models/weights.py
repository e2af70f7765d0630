"""Published weights: find or fetch a checkpoint, read it safely, check it, load it.

The Kinetics-400 checkpoints come from the PyTorchVideo model zoo, the class names from PySlowFast;
each preset's `PublishedWeights` (presets.py) says where. Loading goes file -> `load_checkpoint` (a
state dict of tensors, read with `weights_only=True` so that a checkpoint can never run code) ->
`convert_state_dict` (the reference layout renamed to ours) -> `load_weights` (names and shapes
checked, every problem listed at once).

`download_weights(name)` puts both files into `cache_dir()` and checks them before keeping them:
a checkpoint that does not load, or whose keys and shapes do not fit the preset, is deleted and the
error says why. A checkpoint already in torch hub's cache (where PyTorchVideo's `torch.hub.load`
puts it) is used where it is. `find_weights(name)` looks without downloading (the app's way).
"""

from __future__ import annotations

import os
import pickletools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..labels import load_label_map
from .convert import FORMATS, convert_state_dict, detect_format, rename_legacy_keys
from .download import DownloadError, download, fetch, is_folder, remove
from .presets import CLASSNAMES_URL, PRESETS, ZOO_URL, PublishedWeights, build_model

__all__ = ["CLASSNAMES_URL", "ZOO_URL", "CheckpointError", "DownloadError", "WeightsFiles",
           "cache_dir", "check_checkpoint", "download", "download_weights", "find_weights",
           "hub_dir", "load_checkpoint", "load_kinetics_classnames", "load_label_map",
           "load_pretrained", "load_weights", "read_checkpoint"]

STATE_DICT_KEYS = ("model_state", "state_dict", "model")  # where training checkpoints keep it
_LISTED = 10  # problems of each kind spelled out in an error


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model."""


def cache_dir() -> Path:
    """Where downloads go: `$SLOWFAST_EDU_CACHE`, else `~/.cache/slowfast_edu`."""
    return Path(os.environ.get("SLOWFAST_EDU_CACHE") or Path.home() / ".cache" / "slowfast_edu")


def hub_dir() -> Path:
    """torch hub's checkpoint folder (`$TORCH_HOME/hub/checkpoints`, else ~/.cache/torch/...)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


# ------------------------------------------------------------------------ reading checkpoints

def read_checkpoint(path: str | Path) -> object:
    """What a `.pyth`/`.pt` file holds, read with `weights_only=True`; a clear error if it can't."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes); delete it and download it "
                              f"again")
    with open(path, "rb") as f:
        magic = f.read(4)
    is_zip, is_pickle = magic == b"PK\x03\x04", magic[:1] == b"\x80"  # pickle's PROTO opcode
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, OSError, EOFError, UnpicklingError, ...
        message = str(e)
        code = re.search(r"GLOBAL (\S+)", message)
        if not code and is_pickle and "Weights only load failed" in message:
            code = _pickled_code(path)  # a plain pickle: does it call code, or is it garbage?
        if code:
            found = f" ({code.group(1) if isinstance(code, re.Match) else code})"
            raise CheckpointError(
                f"checkpoint {path} contains pickled code{found}, refusing to load it "
                f"(weights_only=True); if it is a whole model saved with torch.save(model) and you "
                f"trust its source, load it yourself and pass model.state_dict()") from None
        if not is_zip and not is_pickle:
            raise CheckpointError(f"{path} is not a PyTorch checkpoint (neither a zip archive nor "
                                  f"a pickle); is it an error page or another format?") from None
        reason = message.splitlines()[0] if message else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt ({reason}); delete it "
                              f"and download it again") from None


def _pickled_code(path: Path) -> str | None:
    """The callable a plain pickle names (read with `pickletools`, never run; the first outside
    torch and collections, which weights_only allows), or None for a pickle naming none, or one
    too damaged to read."""
    last, names, calls = [], [], False
    try:
        with open(path, "rb") as f:
            for op, arg, _ in pickletools.genops(f):
                if isinstance(arg, str):
                    last = (last + [arg])[-2:]
                if op.name in ("GLOBAL", "INST"):
                    names.append(str(arg).replace(" ", "."))
                elif op.name == "STACK_GLOBAL":
                    names.append(".".join(last))
                calls |= op.name in ("REDUCE", "OBJ", "NEWOBJ", "NEWOBJ_EX")
    except (ValueError, EOFError):  # not a valid pickle past some point: damaged
        return None
    foreign = [n for n in names if not n.startswith(("torch.", "collections."))]
    return (foreign or names or (["code"] if calls else [None]))[0]


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors saved in a `.pyth`/`.pt` file, bare or under "model_state" (the zoo's way)."""
    return _state_dict_of(read_checkpoint(path), str(path))


def fit_problems(model: nn.Module, state_dict: dict[str, torch.Tensor], strict: bool = True
                 ) -> list[str]:
    """What keeps `state_dict` (in our layout) from loading into `model`: [] when it fits."""
    expected = model.state_dict()
    # BN's batch counter matters only with momentum=None; older checkpoints do not save it
    missing = [k for k in expected if k not in state_dict and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [f"{k}: checkpoint {tuple(v.shape)}, model {tuple(expected[k].shape)}"
                  for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]
    problems = [_listing("shape mismatch(es)", mismatched)]
    if strict:
        problems += [_listing("missing key(s), in the model but not in the checkpoint", missing),
                     _listing("unexpected key(s), in the checkpoint but not in the model",
                              unexpected)]
    return [p for p in problems if p]


def load_weights(model: nn.Module, weights: str | Path | dict, source: str = "auto",
                 strict: bool = True) -> nn.Module:
    """Load a checkpoint file or state dict in any known layout into `model`; returns `model`."""
    name, state_dict, layout = _our_layout(model, weights, source)
    problems = fit_problems(model, state_dict, strict)
    if problems:
        hint = ("Is it a checkpoint of this preset (depth, alpha, fusion, num_classes)? To "
                "fine-tune with other classes, drop the head.proj entries and pass strict=False")
        raise CheckpointError(f"cannot load {name} ({layout} layout) into "
                              f"{type(model).__name__}:\n" + "\n".join(problems) + f"\n{hint}")
    model.load_state_dict(state_dict, strict=False)  # everything is checked above
    return model


def check_checkpoint(name: str, path: str | Path) -> None:
    """Raise `CheckpointError` unless `path` loads safely and every key and shape fits preset
    `name` with its published weights' classes (checked on the meta device: no memory used)."""
    weights = _published(name)
    with torch.device("meta"):
        model = build_model(name, num_classes=weights.num_classes)
    _, state_dict, layout = _our_layout(model, path, weights.layout)
    problems = fit_problems(model, state_dict)
    if problems:
        raise CheckpointError(f"{path} is not a {name} checkpoint ({layout} layout):\n"
                              + "\n".join(problems))


def _our_layout(model: nn.Module, weights: str | Path | dict, source: str
                ) -> tuple[str, dict[str, torch.Tensor], str]:
    """(a name for messages, the state dict in our layout, the layout it came in)."""
    if isinstance(weights, (str, os.PathLike)):
        name, state_dict = str(weights), load_checkpoint(weights)
    else:
        name = "the state dict"
        state_dict = _state_dict_of(weights, name)
    state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}  # DDP checkpoints
    if source not in ("auto", *FORMATS):
        raise ValueError(f"unknown source {source!r}; choose from auto, {', '.join(FORMATS)}")
    try:
        layout = detect_format(state_dict) if source == "auto" else source
        if layout != "slowfast_edu":
            single = getattr(model, "pathway_name", "slow")  # where a Slow-only layout goes
            state_dict = convert_state_dict(state_dict, layout, "slowfast_edu", single)
        else:  # our own layout, perhaps from an older version (laterals.stem -> laterals.pool1)
            state_dict = rename_legacy_keys(state_dict)
    except ValueError as e:
        raise CheckpointError(f"cannot load {name}: {e}") from None
    return name, state_dict, layout


# ---------------------------------------------------------------------------------- class names

def load_kinetics_classnames(path: str | Path | None = None, url: str | None = None) -> list[str]:
    """The Kinetics-400 class names from a label map (downloaded into the cache when no path)."""
    if path is None:
        url = url or os.environ.get("SLOWFAST_EDU_CLASSNAMES_URL") or CLASSNAMES_URL
        path = download(url, cache_dir() / url.rsplit("/", 1)[-1], progress=False)
    return load_label_map(path)


# --------------------------------------------------------------------- the cache and the zoo

@dataclass(frozen=True)
class WeightsFiles:
    """Where a preset's checkpoint and class names are on this machine (None: not there)."""

    checkpoint: Path | None
    classnames: Path | None

    @property
    def complete(self) -> bool:
        """Both files are there: the weights load without any download."""
        return self.checkpoint is not None and self.classnames is not None


def find_weights(name: str, cache: str | Path | None = None) -> WeightsFiles:
    """The files of preset `name` already on this machine: our cache, then torch hub's."""
    weights = _published(name)
    cache = Path(cache) if cache is not None else cache_dir()
    checkpoint = next((p for p in (cache / weights.file, hub_dir() / weights.file)
                       if p.is_file()), None)
    classnames = next((cache / f for f in weights.classnames_files if (cache / f).is_file()),
                      None)
    return WeightsFiles(checkpoint, classnames)


def download_weights(name: str, source: str | os.PathLike | None = None,
                     cache: str | Path | None = None, progress: bool = True,
                     classnames_url: str | None = None) -> WeightsFiles:
    """Put preset `name`'s checkpoint and class names into the cache, checked; `source` is a base
    URL or a local folder with the zoo's file names (default: the zoo). Returns their paths."""
    weights = _published(name)
    cache = Path(cache) if cache is not None else cache_dir()
    found = find_weights(name, cache)
    checkpoint = found.checkpoint
    if checkpoint is not None:
        try:
            check_checkpoint(name, checkpoint)
        except CheckpointError as e:
            if checkpoint.parent != cache:  # torch hub's: not ours to delete
                warnings.warn(f"ignoring {checkpoint}: {e}", stacklevel=2)
            else:
                remove(checkpoint)
            checkpoint = None
    if checkpoint is None:
        origin = source or os.environ.get("SLOWFAST_EDU_ZOO_URL") or weights.base_url
        checkpoint = _fetch_checked(origin, weights.file, cache / weights.file, progress,
                                    lambda path: check_checkpoint(name, path))
    classnames = found.classnames
    if classnames is not None:
        try:
            load_label_map(classnames, weights.num_classes)
        except ValueError:
            remove(classnames)
            classnames = None
    if classnames is None:
        classnames = _fetch_classnames(weights, source, classnames_url, cache, progress)
    return WeightsFiles(checkpoint, classnames)


def _fetch_checked(origin: str | os.PathLike, file: str, dest: Path, progress: bool,
                   check) -> Path:
    """Fetch `file` from `origin` to `dest` and run `check(dest)`; a failing file is deleted."""
    fetch(origin, file, dest, progress)
    try:
        check(dest)
    except (CheckpointError, ValueError) as e:
        remove(dest)
        where = Path(origin) / file if is_folder(origin) else f"{str(origin).rstrip('/')}/{file}"
        raise CheckpointError(f"refused {where}, deleted it from the cache: {e}") from None
    return dest


def _fetch_classnames(weights: PublishedWeights, source: str | os.PathLike | None,
                      url: str | None, cache: Path, progress: bool) -> Path:
    def check(path: Path) -> None:
        load_label_map(path, weights.num_classes)

    if url is None and source is not None:  # a mirror: PySlowFast's JSON, else the plain list
        for file in weights.classnames_files:
            if is_folder(source) and not (Path(source) / file).is_file():
                continue
            try:
                return _fetch_checked(source, file, cache / file, progress, check)
            except DownloadError as e:
                if "HTTP 404" not in str(e):
                    raise
        raise DownloadError(f"{source} has none of {', '.join(weights.classnames_files)}")
    url = url or os.environ.get("SLOWFAST_EDU_CLASSNAMES_URL") or weights.classnames_url
    base, file = url.rsplit("/", 1)
    return _fetch_checked(base, file, cache / file, progress, check)


def load_pretrained(name: str, progress: bool = True, cache: str | Path | None = None,
                    base_url: str | None = None, classnames_url: str | None = None,
                    download: bool = True) -> nn.Module:
    """Preset `name` with its published Kinetics-400 weights and `.classnames`, in eval mode;
    fetched into the cache first unless there already (or `download=False`: an error saying how)."""
    weights = _published(name)
    files = find_weights(name, cache)
    if not files.complete:
        if not download:
            raise FileNotFoundError(f"the {name} weights are not in {cache or cache_dir()}; get "
                                    f"them with `slowfast-edu weights download {name}`")
        files = download_weights(name, base_url, cache, progress, classnames_url)
    model = load_weights(build_model(name, num_classes=weights.num_classes), files.checkpoint,
                         source=weights.layout)
    model.classnames = load_label_map(files.classnames, weights.num_classes)
    return model.eval()


def _published(name: str) -> PublishedWeights:
    published = [n for n, p in PRESETS.items() if p.weights]
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; presets with published weights: "
                         f"{', '.join(published)}")
    if PRESETS[name].weights is None:
        raise ValueError(f"{name} has no published checkpoint; these presets have one: "
                         f"{', '.join(published)}. Build {name} untrained with "
                         f"build_model({name!r})")
    return PRESETS[name].weights


def _state_dict_of(checkpoint: object, name: str) -> dict[str, torch.Tensor]:
    """The tensors of a bare state dict, or of the one a training checkpoint holds."""
    tensors = {}
    if isinstance(checkpoint, dict):
        checkpoint = next((checkpoint[key] for key in STATE_DICT_KEYS
                           if isinstance(checkpoint.get(key), dict)), checkpoint)
        tensors = {k: v for k, v in checkpoint.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        what = (f"a dict with keys {sorted(map(str, checkpoint))[:_LISTED]}"
                if isinstance(checkpoint, dict) else f"a {type(checkpoint).__name__}")
        raise CheckpointError(f"{name} holds no tensors ({what}); expected a state dict, bare or "
                              f"under one of {', '.join(STATE_DICT_KEYS)}")
    return tensors


def _listing(what: str, items: list[str]) -> str:
    """A count and the first _LISTED items, one per line; "" when there are none."""
    if not items:
        return ""
    lines = [f"  {len(items)} {what}:"] + [f"    {k}" for k in items[:_LISTED]]
    if len(items) > _LISTED:
        lines.append(f"    ... and {len(items) - _LISTED} more")
    return "\n".join(lines)
