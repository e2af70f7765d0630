"""What a SlowFast costs, and where: parameters and FLOPs per part, measured on the meta device.

`network_cost("slowfast_4x16_r50", alpha=4, beta_inv=16)` builds the network on PyTorch's "meta"
device (shapes only: no memory, no arithmetic), runs one view through torch's FLOP counter and
splits the count by part: the Slow pathway, the Fast pathway, the lateral connections, the head.
FLOPs are counted as the paper counts them, multiply-adds of the convolutions and the classifier
(`count_flops`: torch counts 2 per multiply-add; we halve it). `widgets.cost_calculator()` puts
controls on it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..models import build_network, count_params, example_inputs, get_config

PARTS = ("slow", "fast", "laterals", "head")


def network_cost(preset: str = "slowfast_4x16_r50", size: int = 256, **overrides: Any
                 ) -> dict[str, Any]:
    """Parameters and GFLOPs of one `size` x `size` view of `preset` with `overrides`, in total
    and per part: {"params", "gflops", "parts": {part: {"params", "gflops"}}, "config"}."""
    cfg = get_config(preset, **overrides)
    with torch.device("meta"):
        model = build_network(cfg)
        inputs = example_inputs(cfg, size, device="meta")
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(list(inputs))
    flops = {name: sum(ops.values()) / 2 / 1e9 for name, ops in counter.get_flop_counts().items()}
    root = type(model).__name__
    parts = {}
    for part in PARTS:
        module = getattr(model, part, None)
        if module is None:
            continue
        if f"{root}.{part}" in flops:  # called as a whole (the head)
            gflops = flops[f"{root}.{part}"]
        else:  # called stage by stage (a pathway, the laterals): its children's sum
            prefix = f"{root}.{part}."
            gflops = sum(v for k, v in flops.items()
                         if k.startswith(prefix) and "." not in k[len(prefix):])
        parts[part] = {"params": count_params(module), "gflops": gflops}
    return {"params": count_params(model), "gflops": flops.get("Global", 0.0), "parts": parts,
            "config": cfg, "size": size}


def cost_table(cost: dict[str, Any], views: int = 30) -> str:
    """A Markdown table of `network_cost`'s result, with the cost of `views` views per video."""
    total = cost["gflops"] or 1.0
    lines = ["| part | parameters | GFLOPs per view | share of the FLOPs |", "|---|---:|---:|---:|"]
    for part, c in cost["parts"].items():
        lines.append(f"| {part} | {c['params']:,d} | {c['gflops']:.2f} | "
                     f"{c['gflops'] / total:.0%} |")
    lines.append(f"| **total** | **{cost['params']:,d}** | **{cost['gflops']:.2f}** | "
                 f"x {views} views = {views * cost['gflops']:,.0f} per video |")
    return "\n".join(lines)
