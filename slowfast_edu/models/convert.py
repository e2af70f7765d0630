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
in PySlowFast and `slow.` (or `fast.`) here. PyTorchVideo's C2D and I3D have their temporal pool
after res2 as `blocks.2`, so their res3..res5 are `blocks.3`..`blocks.5` and the head `blocks.6`
("pooled"; PySlowFast's pool has no weights, so its names are Slow-only's). PyTorchVideo's
detectors (`slowfast_r50_detection`, the AVA zoo's `SLOWFAST_8x8_R50_DETECTION.pyth`) wrap the
same layout: the backbone under `model.` (`model.blocks.0.multipathway_blocks.0.conv`) and the RoI
head under `detection_head.` (`detection_head.proj`); PySlowFast's AVA checkpoints keep theirs at
`head.projection` as usual. PySlowFast's Caffe2 `.pkl` checkpoints (its Kinetics-600 models among
them) name their blobs another way again (caffe2.py); they are read, through PySlowFast's names.
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

from .caffe2 import caffe2_to_pyslowfast, is_caffe2_layout
from .fusion import FUSIONS, LATERAL_POSITIONS
from .head import HEADS

FORMATS = ("slowfast_edu", "pytorchvideo", "pyslowfast", "caffe2")  # caffe2: read only

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
    "pytorchvideo_pooled": {  # C2D, I3D: blocks.2 is the temporal pool after res2 (no weights)
        "stem": "blocks.0.{layer}.{param}",
        "block": "blocks.{stage}.res_blocks.{block}.branch2.{layer}.{param}",
        "shortcut": "blocks.{stage}.res_blocks.{block}.{layer}.{param}",
        "head": "blocks.6.{layer}.{param}",
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
    if is_caffe2_layout(state_dict):
        return "caffe2"
    raise ValueError(f"not a SlowFast state dict in any layout we know ({', '.join(FORMATS)}); "
                     f"first keys: {keys[:3]}")


def _is_two_pathway(state_dict: dict, fmt: str) -> bool:
    if fmt == "pytorchvideo":
        return any(".multipathway_blocks." in k for k in state_dict)
    if fmt == "pyslowfast":
        return any("pathway1_" in k for k in state_dict)
    return {k.split(".")[0] for k in state_dict} >= {"slow", "fast"}


def _layout(fmt: str, single: bool, pooled: bool) -> str:
    """The key templates of `fmt` for a network of one or two pathways, pooled after res2 or not."""
    if fmt != "pytorchvideo" or not single:
        return fmt
    return "pytorchvideo_pooled" if pooled else "pytorchvideo_single"


def _their_stage(stage: int, layout: str) -> int:
    """res2..res5 (2..5) -> the layout's index: PyTorchVideo counts blocks from the stem's 0."""
    if layout == "pytorchvideo_pooled":
        return 1 if stage == 2 else stage  # blocks 1, (2: the pool), 3, 4, 5
    return stage - 1 if layout.startswith("pytorchvideo") else stage


def _our_stage(index: int, layout: str) -> int:
    """The inverse of `_their_stage`."""
    if layout == "pytorchvideo_pooled":
        return 2 if index == 1 else index
    return index + 1 if layout.startswith("pytorchvideo") else index


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


def _parse(key: str, fmt: str, single: str | None, pooled: bool = False) -> _Key:
    layout = _layout(fmt, bool(single), pooled)
    column = None if fmt == "slowfast_edu" else int(fmt == "pyslowfast")
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
        if "stage" in fields:  # PyTorchVideo counts res2..res5 as blocks 1..4 (or 1, 3, 4, 5)
            parsed = replace(parsed, stage=_our_stage(int(fields["stage"]), layout))
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


def _render(k: _Key, fmt: str, single: bool, pooled: bool = False) -> str:
    layout = _layout(fmt, single, pooled)
    if k.kind not in _TEMPLATES[layout]:
        raise ValueError(f"the {fmt} layout has no place for {k.kind} layers ({k})")
    theirs = None if fmt == "slowfast_edu" else _layers()[k.kind][k.layer][fmt == "pyslowfast"]
    if fmt != "slowfast_edu" and theirs is None:
        raise ValueError(f"the {fmt} layout has no place for the {k.kind} layer {k.layer!r} ({k})")
    layer = k.layer if fmt == "slowfast_edu" else theirs
    pathway = k.pathway
    if fmt != "slowfast_edu" and k.pathway:
        pathway = 0 if single else ("slow", "fast").index(k.pathway)
    stage = _their_stage(k.stage, layout)
    position = (LATERAL_POSITIONS[k.position] if fmt == "slowfast_edu"
                else k.position + (fmt == "pyslowfast"))
    return _TEMPLATES[layout][k.kind].format(pathway=pathway, stage=stage, position=position,
                                             block=k.block, layer=layer, param=k.param)


def _pytorchvideo_head(single: bool, pooled: bool = False) -> str:
    return _TEMPLATES[_layout("pytorchvideo", single, pooled)]["head"].split("{")[0]


def _unwrap_detector(state_dict: dict, single: bool, pooled: bool = False) -> dict:
    """A PyTorchVideo detector's keys as its classification network's (`model.` and
    `detection_head.` off, the head as the last block); other state dicts unchanged."""
    backbone, head = _PTV_DETECTOR
    if not any(k.startswith(_PTV_DETECTOR) for k in state_dict):
        return state_dict
    return {(_pytorchvideo_head(single, pooled) + k[len(head):] if k.startswith(head)
             else k.removeprefix(backbone)): v for k, v in state_dict.items()}


def _wrap_detector(state_dict: dict, single: bool, pooled: bool = False) -> dict:
    """The other way: PyTorchVideo classification keys as its detector's."""
    backbone, head = _PTV_DETECTOR
    last = _pytorchvideo_head(single, pooled)
    return {(head + k[len(last):] if k.startswith(last) else backbone + k): v
            for k, v in state_dict.items()}


def convert_state_dict(state_dict: dict[str, torch.Tensor], source: str = "pytorchvideo",
                       target: str = "slowfast_edu", single_pathway: str = "slow",
                       res2_pool: bool | None = None, head: str = "classification"
                       ) -> dict[str, torch.Tensor]:
    """Rename the keys of `state_dict` from layout `source` ("auto" to detect) to `target`.

    `single_pathway` says which of our pathways a reference Slow-only checkpoint's only pathway
    becomes ("slow", or "fast" for a Fast-only model). `res2_pool` says whether a single-pathway
    PyTorchVideo layout has C2D/I3D's pool after res2 (`blocks.2`): read, it is detected (None);
    to write a C2D or I3D in that layout, pass True. `head` names the network's head
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
    if target == "caffe2":
        raise ValueError("the caffe2 layout (PySlowFast's .pkl files) is read, not written; "
                         "convert to pyslowfast or pytorchvideo")
    if source == "caffe2":  # blob names -> PySlowFast's names, and on from there
        state_dict, source = caffe2_to_pyslowfast(state_dict), "pyslowfast"
    single = not _is_two_pathway(state_dict, source)
    pooled = {fmt: bool(res2_pool) for fmt in (source, target)}
    if source == "pytorchvideo":
        if res2_pool is None and single:  # C2D, I3D: no blocks.2 (a detector's: no model.blocks.2)
            pooled[source] = not any(k.removeprefix(_PTV_DETECTOR[0]).startswith("blocks.2.")
                                     for k in state_dict)
        state_dict = _unwrap_detector(state_dict, single, pooled[source])
    out, unknown = {}, []
    for key, value in state_dict.items():
        try:
            parsed = _parse(key, source, single_pathway if single and source != "slowfast_edu"
                            else None, pooled[source])
        except KeyError:
            unknown.append(key)
            continue
        out[_render(parsed, target, single, pooled[target])] = value
    if unknown:
        more = f" ... and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValueError(f"{len(unknown)} key(s) are not {source} SlowFast layers: "
                         f"{', '.join(unknown[:10])}{more}")
    if target == "pytorchvideo" and HEADS.choose(head).takes_boxes:
        out = _wrap_detector(out, single, pooled[target])
    return out
