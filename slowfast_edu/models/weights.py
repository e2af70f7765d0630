"""Published weights: download a checkpoint, read it safely, load it into our network.

The Kinetics-400 checkpoints come from the PyTorchVideo model zoo; the class names from PySlowFast.
Loading goes file -> `load_checkpoint` (a state dict of tensors, read with `weights_only=True` so a
checkpoint can never run code) -> `convert_state_dict` (the reference layout renamed to ours) ->
`load_weights` (names and shapes checked, every problem listed at once).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .convert import FORMATS, convert_state_dict, detect_format
from .presets import PRESETS, build_model

ZOO_URL = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
CLASSNAMES_URL = ("https://dl.fbaipublicfiles.com/pyslowfast/dataset/class_names/"
                  "kinetics_classnames.json")
STATE_DICT_KEYS = ("model_state", "state_dict", "model")  # where training checkpoints keep it
_LISTED = 10  # problems of each kind spelled out in an error


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model."""


class DownloadError(OSError):
    """A file that could not be downloaded."""


def cache_dir() -> Path:
    """Where downloads go: `$SLOWFAST_EDU_CACHE`, else `~/.cache/slowfast_edu`."""
    return Path(os.environ.get("SLOWFAST_EDU_CACHE") or Path.home() / ".cache" / "slowfast_edu")


def download(url: str, dest: str | Path, progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch `url` to `dest` (nothing to do when it exists) through a `.part` file."""
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")  # a crash never leaves a half file under `dest`
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as f:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                      disable=not progress) as bar:
                while chunk := response.read(1 << 20):
                    bar.update(f.write(chunk))
        if total is not None and part.stat().st_size != total:
            raise DownloadError(f"the connection closed after {part.stat().st_size} of {total} "
                                f"bytes")
        os.replace(part, dest)  # atomic: `dest` is either absent or complete
        return dest
    except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts: OSError
        part.unlink(missing_ok=True)
        if isinstance(e, urllib.error.HTTPError):
            reason = f"HTTP {e.code} {e.reason}"
        elif isinstance(e, TimeoutError) or "timed out" in str(e):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = str(e.reason if isinstance(e, urllib.error.URLError) else e)
        raise DownloadError(f"cannot download {url}: {reason}; if this machine is offline, put "
                            f"the file at {dest}") from e


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors saved in a `.pyth`/`.pt` file, bare or under "model_state" (the zoo's way)."""
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
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, OSError, EOFError, UnpicklingError, ...
        message = str(e)
        code = re.search(r"GLOBAL (\S+)", message)
        if code or (is_pickle and "Weights only load failed" in message):
            found = f" ({code.group(1)})" if code else ""
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
    return _state_dict_of(checkpoint, str(path))


def load_weights(model: nn.Module, weights: str | Path | dict, source: str = "auto",
                 strict: bool = True) -> nn.Module:
    """Load a checkpoint file or state dict in any known layout into `model`; returns `model`."""
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
    except ValueError as e:
        raise CheckpointError(f"cannot load {name}: {e}") from None
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
    problems = [p for p in problems if p]
    if problems:
        hint = ("Is it a checkpoint of this preset (depth, alpha, fusion, num_classes)? To "
                "fine-tune with other classes, drop the head.proj entries and pass strict=False")
        raise CheckpointError(f"cannot load {name} ({layout} layout) into "
                              f"{type(model).__name__}:\n" + "\n".join(problems) + f"\n{hint}")
    model.load_state_dict(state_dict, strict=False)  # everything is checked above
    return model


def load_kinetics_classnames(path: str | Path | None = None, url: str | None = None) -> list[str]:
    """Class names ordered by id, from PySlowFast's `{name: id}` JSON (downloaded when no path)."""
    if path is None:
        url = url or os.environ.get("SLOWFAST_EDU_CLASSNAMES_URL") or CLASSNAMES_URL
        path = download(url, cache_dir() / _file_name(url), progress=False)
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read class names from {path}: {e}") from None
    if not isinstance(table, dict) or not all(type(i) is int for i in table.values()):
        raise ValueError(f"{path} is not a class-name table: expected PySlowFast's JSON object "
                         f'{{"name": id, ...}} with integer ids')
    ids = sorted(table.values())
    if ids != list(range(len(table))):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        absent = sorted(set(range(len(table))) - set(ids))
        raise ValueError(f"{path}: class ids must be 0..{len(table) - 1}, each once; duplicated: "
                         f"{duplicates[:_LISTED]}, missing: {absent[:_LISTED]}")
    names = [""] * len(table)
    for name, i in table.items():
        names[i] = name.strip().strip('"')  # multi-word names come wrapped in literal quotes
    return names


def load_pretrained(name: str, progress: bool = True, cache: str | Path | None = None,
                    base_url: str | None = None, classnames_url: str | None = None) -> nn.Module:
    """Preset `name` with its published Kinetics-400 weights and `.classnames`, in eval mode."""
    published = [n for n, p in PRESETS.items() if p.checkpoint]
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; presets with published weights: "
                         f"{', '.join(published)}")
    if PRESETS[name].checkpoint is None:
        raise ValueError(f"{name} has no published checkpoint; these presets have one: "
                         f"{', '.join(published)}. Build {name} untrained with "
                         f"build_model({name!r})")
    cache = Path(cache) if cache is not None else cache_dir()
    base = (base_url or os.environ.get("SLOWFAST_EDU_ZOO_URL") or ZOO_URL).rstrip("/")
    file = PRESETS[name].checkpoint
    model = load_weights(build_model(name), download(f"{base}/{file}", cache / file, progress),
                         source="pytorchvideo")
    url = classnames_url or os.environ.get("SLOWFAST_EDU_CLASSNAMES_URL") or CLASSNAMES_URL
    classnames = load_kinetics_classnames(download(url, cache / _file_name(url), progress))
    if len(classnames) != model.head.proj.out_features:
        raise ValueError(f"{url} lists {len(classnames)} classes but {name} predicts "
                         f"{model.head.proj.out_features}")
    model.classnames = classnames
    return model.eval()


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


def _file_name(url: str) -> str:
    return Path(urllib.parse.urlparse(url).path).name or "kinetics_classnames.json"
