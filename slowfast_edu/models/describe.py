"""The paper's Table 1, measured on a built network: per stage and pathway, kernels, channels and
the output size T x H x W, read from the modules and from hooks during one forward pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .config import STAGES
from .fusion import LATERAL_POSITIONS
from .resnet import Bottleneck, ResStage


@dataclass
class StageRow:
    """One row of Table 1: what each pathway does at this stage and what comes out."""

    stage: str
    slow: str = ""
    fast: str = ""
    slow_out: tuple[int, ...] | None = None  # (C, T, H, W) measured
    fast_out: tuple[int, ...] | None = None


class Description(list):
    """A list of `StageRow`s that prints as a table (text, or Markdown in a notebook)."""

    headers = ("stage", "Slow pathway", "Fast pathway", "Slow output", "Fast output")

    def cells(self) -> list[tuple[str, ...]]:
        """Each row as five strings."""
        return [(r.stage, r.slow, r.fast, _size(r.slow_out), _size(r.fast_out)) for r in self]

    def __str__(self) -> str:
        rows = [self.headers, *self.cells()]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        rows = [self.headers, ("---",) * 5, *self.cells()]
        return "\n".join("| " + " | ".join(c.replace("|", "/") for c in row) + " |"
                         for row in rows)


def describe(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
             *head_inputs: torch.Tensor) -> Description:
    """Table 1 for `model` on `inputs` (and a head's extra inputs), measured; "meta" works too."""
    cfg = model.cfg
    pathways = {name: getattr(model, name) for name in ("slow", "fast") if hasattr(model, name)}
    clips = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    raw = StageRow("raw clip")
    for name, clip in zip(pathways, clips):
        setattr(raw, f"{name}_out", tuple(clip.shape[1:]))
    table = Description([raw])
    strides = {"slow": cfg.tau, "fast": max(cfg.tau // cfg.alpha, 1)}
    fast_input = getattr(model, "fast_input", None)  # grey, time difference, half size
    extra = {"fast": fast_input.describe() if fast_input is not None else ""}
    table.append(StageRow("data layer", **{
        name: f"stride {strides[name]}, 1x1{extra.get(name, '')}" for name in pathways}))

    rows: dict[str, StageRow] = {}
    hooks = []

    def record(stage: str, column: str, text: str, module: nn.Module) -> None:
        row = rows.setdefault(stage, StageRow(stage))
        setattr(row, column, text)

        def hook(_module, _args, output):
            setattr(row, f"{column}_out", tuple(output.shape[1:]))
        hooks.append(module.register_forward_hook(hook))

    for name, pathway in pathways.items():
        record("conv1", name, _conv(pathway.stem.conv), pathway.stem.conv)
        record("pool1", name, _pool(pathway.stem.pool), pathway.stem.pool)
        for stage, module in pathway.stages()[1:]:
            record(stage, name, _stage(module), module)
        if getattr(pathway, "pool2", None) is not None:  # C2D, I3D: T halved after res2
            record("pool2", name, _pool(pathway.pool2), pathway.pool2)
    record("head", "slow", model.head.describe(), model.head)  # the head says what it is
    order = ["conv1", "pool1"]
    laterals = getattr(model, "laterals", {})
    for after, stage in zip(LATERAL_POSITIONS, STAGES):
        text = laterals[after].describe() if laterals else None  # None: nothing joins here
        if text is not None:
            record(f"lateral {after}", "slow", text, laterals[after])
            order.append(f"lateral {after}")
        order.append(stage)
        if stage == "res2" and "pool2" in rows:
            order.append("pool2")
    order.append("head")

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(clips if len(clips) > 1 else clips[0], *head_inputs)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    table.extend(rows[stage] for stage in order)
    return table


def _triple(values) -> str:
    return "x".join(str(v) for v in values)


def _conv(conv: nn.Conv3d) -> str:
    return f"{_triple(conv.kernel_size)}, {conv.out_channels}, stride {_triple(conv.stride)}"


def _pool(pool: nn.Module) -> str:
    if not isinstance(pool, nn.MaxPool3d):  # pool1=False
        return "none"
    return f"{_triple(pool.kernel_size)} max, stride {_triple(pool.stride)}"


def _stage(stage: ResStage) -> str:
    blocks = [m for m in stage if isinstance(m, Bottleneck)]
    first = blocks[0]
    kernels = [_triple(b.conv_a.kernel_size) for b in blocks]
    period = next(p for p in range(1, len(kernels) + 1)
                  if all(k == kernels[i % p] for i, k in enumerate(kernels)))
    runs: list[list] = []  # [kernel, first block, last block] for runs of equal kernels
    for i, k in enumerate(kernels, 1):
        if runs and runs[-1][0] == k:
            runs[-1][2] = i
        else:
            runs.append([k, i, i])
    conv_a = runs[0][0] if len(runs) == 1 else " / ".join(
        f"{k} (blocks {a}-{b})" if a != b else f"{k} (block {a})" for k, a, b in runs)
    if 1 < period < len(kernels):  # a repeated pattern, as I3D's: "3x1x1 / 1x1x1 alternating"
        conv_a = " / ".join(kernels[:period]) + (" alternating" if period == 2 else " repeated")
    text = (f"[{conv_a}, {first.conv_a.out_channels}; {_triple(first.conv_b.kernel_size)}, "
            f"{first.conv_b.out_channels}; {_triple(first.conv_c.kernel_size)}, "
            f"{first.conv_c.out_channels}] x{len(blocks)}")
    nonlocal_after = [str(int(name[len("nonlocal"):]) + 1) for name, _ in stage.named_children()
                      if name.startswith("nonlocal")]  # 1-based, like the block runs above
    if nonlocal_after:
        text += f" + non-local after blocks {', '.join(nonlocal_after)}"
    if first.conv_b.dilation[-1] > 1:  # res5_dilation
        text += f", dilation {first.conv_b.dilation[-1]}"
    return text


def _size(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    if len(shape) == 1:
        return f"{shape[0]}"
    c, t, h, w = shape
    return f"{t}x{h}x{w}, {c}"
