"""Renaming state-dict keys between our layout and the reference codebases' layouts.

The three name the same tensors differently:

| layer | slowfast_edu | PyTorchVideo | PySlowFast |
|---|---|---|---|
| stem | `slow.stem.conv` | `blocks.0.multipathway_blocks.0.conv` | `s1.pathway0_stem.conv` |
| lateral after pool1 | `laterals.pool1.conv` | `blocks.0.multipathway_fusion.conv_fast_to_slow` | `s1_fuse.conv_f2s` |
| bottleneck | `fast.res3.1.conv_a` | `blocks.2.multipathway_blocks.1.res_blocks.1.branch2.conv_a` | `s3.pathway1_res1.branch2.a` |
| shortcut | `slow.res2.0.shortcut.bn` | `blocks.1.multipathway_blocks.0.res_blocks.0.branch1_norm` | `s2.pathway0_res0.branch1_bn` |
| non-local | `slow.res4.nonlocal6.conv_g` | (none) | `s4.pathway0_nonlocal6.conv_g` |
| classifier | `head.proj` | `blocks.6.proj` | `head.projection` |

Single-pathway models (Slow-only) drop `multipathway_blocks.{p}` in PyTorchVideo, use `pathway0`
in PySlowFast and `slow.` (or `fast.`) here. PyTorchVideo's detectors (`slowfast_r50_detection`,
the AVA zoo's `SLOWFAST_8x8_R50_DETECTION.pyth`) wrap the same layout: the backbone under `model.`
(`model.blocks.0.multipathway_blocks.0.conv`) and the RoI head under `detection_head.`
(`detection_head.proj`); PySlowFast's AVA checkpoints keep theirs at `head.projection` as usual.
Every key is parsed into a layout-free description (kind, pathway, stage, block, layer,
parameter) and written out in the target layout. The layer names of the lateral connections and
heads come from their classes (`checkpoint_layers`, see registry.py), so a registered fusion or
head with weights converts too.

Our own layout changed once: the lateral after pool1 was keyed `laterals.stem.` before issue 14
and is `laterals.pool1.` since (the paper's name). `rename_legacy_keys` renames an older state
dict, and the `slowfast_edu` layout reads both names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import torch

from .fusion import FUSIONS, LATERAL_POSITIONS
from .head import HEADS

FORMATS = ("slowfast_edu", "pytorchvideo", "pyslowfast")

# our keys that changed: old prefix -> new prefix (issue 14: the paper's name for the first lateral)
LEGACY_KEYS = {"laterals.stem.": "laterals.pool1."}
_LEGACY_POSITIONS = {"stem": "pool1"}

# PyTorchVideo's `DetectionBBoxNetwork`: (prefix of the backbone's keys, prefix of the head's)
_PTV_DETECTOR = ("model.", "detection_head.")

# layer names per kind: ours -> (PyTorchVideo, PySlowFast); the laterals' and heads' are added
# from their registries when a state dict is converted (`_layers`)
_BACKBONE_LAYERS = {
    "stem": {"conv": ("conv", "conv"), "bn": ("norm", "bn")},
    "block": {"conv_a": ("conv_a", "a"), "bn_a": ("norm_a", "a_bn"), "conv_b": ("conv_b", "b"),
              "bn_b": ("norm_b", "b_bn"), "conv_c": ("conv_c", "c"), "bn_c": ("norm_c", "c_bn")},
    "shortcut": {"conv": ("branch1_conv", "branch1"), "bn": ("branch1_norm", "branch1_bn")},
    "nonlocal": {n: (None, n) for n in ("conv_theta", "conv_phi", "conv_g", "conv_out", "bn")},
}

# key templates per layout; {pathway} {stage} {position} {block} {layer} {param} are fields
_TEMPLATES = {
    "slowfast_edu": {
        "stem": "{pathway}.stem.{layer}.{param}",
        "lateral": "laterals.{position}.{layer}.{param}",
        "block": "{pathway}.res{stage}.{block}.{layer}.{param}",
        "shortcut": "{pathway}.res{stage}.{block}.shortcut.{layer}.{param}",
        "nonlocal": "{pathway}.res{stage}.nonlocal{block}.{layer}.{param}",
        "head": "head.{layer}.{param}",
    },
    "pytorchvideo": {
        "stem": "blocks.0.multipathway_blocks.{pathway}.{layer}.{param}",
        "lateral": "blocks.{position}.multipathway_fusion.{layer}.{param}",
        "block": "blocks.{stage}.multipathway_blocks.{pathway}.res_blocks.{block}.branch2.{layer}"
                 ".{param}",
        "shortcut": "blocks.{stage}.multipathway_blocks.{pathway}.res_blocks.{block}.{layer}"
                    ".{param}",
        "head": "blocks.6.{layer}.{param}",
    },
    "pytorchvideo_single": {
        "stem": "blocks.0.{layer}.{param}",
        "block": "blocks.{stage}.res_blocks.{block}.branch2.{layer}.{param}",
        "shortcut": "blocks.{stage}.res_blocks.{block}.{layer}.{param}",
        "head": "blocks.5.{layer}.{param}",
    },
    "pyslowfast": {
        "stem": "s1.pathway{pathway}_stem.{layer}.{param}",
        "lateral": "s{position}_fuse.{layer}.{param}",
        "block": "s{stage}.pathway{pathway}_res{block}.branch2.{layer}.{param}",
        "shortcut": "s{stage}.pathway{pathway}_res{block}.{layer}.{param}",
        "nonlocal": "s{stage}.pathway{pathway}_nonlocal{block}.{layer}.{param}",
        "head": "head.{layer}.{param}",
    },
}

_FIELD_PATTERNS = {"pathway": r"slow|fast|\d+", "stage": r"\d+", "position": r"[a-z0-9]+",
                   "block": r"\d+", "layer": r"[a-z0-9_]+", "param": r".+"}


@dataclass(frozen=True)
class _Key:
    """A state-dict key with the layout taken out. stage: 2..5 (res2..res5); position: 0..3."""

    kind: str
    param: str
    layer: str
    pathway: str = ""  # "slow" or "fast"
    stage: int = 0
    position: int = 0
    block: int = 0


def _regex(template: str) -> re.Pattern:
    pattern = re.escape(template)
    for field, fp in _FIELD_PATTERNS.items():
        pattern = pattern.replace(re.escape("{" + field + "}"), f"(?P<{field}>{fp})")
    return re.compile(pattern + "$")


_REGEXES = {fmt: {kind: _regex(t) for kind, t in templates.items()}
            for fmt, templates in _TEMPLATES.items()}


def detect_format(state_dict: dict) -> str:
    """Which layout a state dict uses: "slowfast_edu", "pytorchvideo" or "pyslowfast"."""
    keys = list(state_dict)
    if any(k.startswith(("slow.", "fast.", "laterals.")) for k in keys):
        return "slowfast_edu"
    if any(k.startswith(("blocks.", *_PTV_DETECTOR)) for k in keys):
        return "pytorchvideo"
    if any(k.startswith(("s1.", "s1_fuse.", "head.projection")) for k in keys):
        return "pyslowfast"
    raise ValueError(f"not a SlowFast state dict in any layout we know ({', '.join(FORMATS)}); "
                     f"first keys: {keys[:3]}")


def _is_two_pathway(state_dict: dict, fmt: str) -> bool:
    if fmt == "pytorchvideo":
        return any(".multipathway_blocks." in k for k in state_dict)
    if fmt == "pyslowfast":
        return any("pathway1_" in k for k in state_dict)
    return {k.split(".")[0] for k in state_dict} >= {"slow", "fast"}


def _layers() -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """Layer names per kind, with those of every registered lateral connection and head."""
    layers = dict(_BACKBONE_LAYERS)
    for kind, registry in (("lateral", FUSIONS), ("head", HEADS)):
        merged: dict[str, tuple[str | None, str | None]] = {}
        for name, cls in registry.items():
            for ours, theirs in cls.checkpoint_layers.items():
                if merged.setdefault(ours, theirs) != theirs:
                    raise ValueError(f"{kind} {name!r} names its layer {ours!r} {theirs} in the "
                                     f"reference checkpoints, another {kind} {merged[ours]}")
        layers[kind] = merged
    return layers


def rename_legacy_keys(state_dict: dict) -> dict:
    """A state dict in our layout with the keys of older versions renamed (`LEGACY_KEYS`)."""
    renamed = {}
    for key, value in state_dict.items():
        for old, new in LEGACY_KEYS.items():
            if key.startswith(old):
                key = new + key[len(old):]
        renamed[key] = value
    return renamed


def _parse(key: str, fmt: str, single: str | None) -> _Key:
    layout = "pytorchvideo_single" if fmt == "pytorchvideo" and single else fmt
    column = {"pytorchvideo": 0, "pytorchvideo_single": 0, "pyslowfast": 1}.get(layout)
    layers = _layers()
    for kind, regex in _REGEXES[layout].items():
        m = regex.match(key)
        if not m:
            continue
        fields = m.groupdict()
        names = {(ours if column is None else theirs[column]): ours
                 for ours, theirs in layers[kind].items()}
        if fields["layer"] not in names:
            continue
        parsed = _Key(kind, fields["param"], names[fields["layer"]])
        if "pathway" in fields:
            p = fields["pathway"]
            pathway = p if fmt == "slowfast_edu" else (single or ("slow", "fast")[int(p)])
            parsed = replace(parsed, pathway=pathway)
        elif kind not in ("lateral", "head"):  # a layout with no pathway field: single pathway
            parsed = replace(parsed, pathway=single)
        if "stage" in fields:  # PyTorchVideo counts res2..res5 as blocks 1..4
            parsed = replace(parsed, stage=int(fields["stage"]) + (fmt == "pytorchvideo"))
        if "position" in fields:
            p = fields["position"]
            if fmt == "slowfast_edu":
                p = _LEGACY_POSITIONS.get(p, p)
                if p not in LATERAL_POSITIONS:
                    continue  # not a lateral of ours
                position = LATERAL_POSITIONS.index(p)
            else:
                position = int(p) - (fmt == "pyslowfast")
            parsed = replace(parsed, position=position)
        if "block" in fields:
            parsed = replace(parsed, block=int(fields["block"]))
        return parsed
    raise KeyError(key)


def _render(k: _Key, fmt: str, single: bool) -> str:
    layout = "pytorchvideo_single" if fmt == "pytorchvideo" and single else fmt
    if k.kind not in _TEMPLATES[layout]:
        raise ValueError(f"the {fmt} layout has no place for {k.kind} layers ({k})")
    theirs = None if fmt == "slowfast_edu" else _layers()[k.kind][k.layer][fmt == "pyslowfast"]
    if fmt != "slowfast_edu" and theirs is None:
        raise ValueError(f"the {fmt} layout has no place for the {k.kind} layer {k.layer!r} ({k})")
    layer = k.layer if fmt == "slowfast_edu" else theirs
    pathway = k.pathway
    if fmt != "slowfast_edu" and k.pathway:
        pathway = 0 if single else ("slow", "fast").index(k.pathway)
    stage = k.stage - (fmt == "pytorchvideo")
    position = (LATERAL_POSITIONS[k.position] if fmt == "slowfast_edu"
                else k.position + (fmt == "pyslowfast"))
    return _TEMPLATES[layout][k.kind].format(pathway=pathway, stage=stage, position=position,
                                             block=k.block, layer=layer, param=k.param)


def _pytorchvideo_head(single: bool) -> str:
    return _TEMPLATES["pytorchvideo_single" if single else "pytorchvideo"]["head"].split("{")[0]


def _unwrap_detector(state_dict: dict, single: bool) -> dict:
    """A PyTorchVideo detector's keys as its classification network's (`model.` and
    `detection_head.` off, the head as the last block); other state dicts unchanged."""
    backbone, head = _PTV_DETECTOR
    if not any(k.startswith(_PTV_DETECTOR) for k in state_dict):
        return state_dict
    return {(_pytorchvideo_head(single) + k[len(head):] if k.startswith(head)
             else k.removeprefix(backbone)): v for k, v in state_dict.items()}


def _wrap_detector(state_dict: dict, single: bool) -> dict:
    """The other way: PyTorchVideo classification keys as its detector's."""
    backbone, head = _PTV_DETECTOR
    last = _pytorchvideo_head(single)
    return {(head + k[len(last):] if k.startswith(last) else backbone + k): v
            for k, v in state_dict.items()}


def convert_state_dict(state_dict: dict[str, torch.Tensor], source: str = "pytorchvideo",
                       target: str = "slowfast_edu", single_pathway: str = "slow",
                       head: str = "classification") -> dict[str, torch.Tensor]:
    """Rename the keys of `state_dict` from layout `source` ("auto" to detect) to `target`.

    `single_pathway` says which of our pathways a reference Slow-only checkpoint's only pathway
    becomes ("slow", or "fast" for a Fast-only model). `head` names the network's head
    (`model.cfg.head`): writing PyTorchVideo's layout for a head that takes boxes gives its
    detector's keys (`model.`, `detection_head.`); reading, they are recognised by themselves.
    Tensors are shared, not copied.
    """
    state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}  # DDP checkpoints
    if source == "auto":
        source = detect_format(state_dict)
    for fmt in (source, target):
        if fmt not in FORMATS:
            raise ValueError(f"unknown layout {fmt!r}; choose from {', '.join(FORMATS)}")
    single = not _is_two_pathway(state_dict, source)
    if source == "pytorchvideo":
        state_dict = _unwrap_detector(state_dict, single)
    out, unknown = {}, []
    for key, value in state_dict.items():
        try:
            parsed = _parse(key, source, single_pathway if single and source != "slowfast_edu"
                            else None)
        except KeyError:
            unknown.append(key)
            continue
        out[_render(parsed, target, single)] = value
    if unknown:
        more = f" ... and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValueError(f"{len(unknown)} key(s) are not {source} SlowFast layers: "
                         f"{', '.join(unknown[:10])}{more}")
    if target == "pytorchvideo" and HEADS.choose(head).takes_boxes:
        out = _wrap_detector(out, single)
    return out
