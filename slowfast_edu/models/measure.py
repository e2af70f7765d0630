"""Counting what a network costs: parameters, and FLOPs in the paper's convention."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .config import SlowFastConfig


def count_params(model: nn.Module) -> int:
    """Number of parameters (weights and biases; BN running statistics are not parameters)."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]) -> float:
    """GFLOPs of one forward pass as the paper counts them: multiply-adds of convs and linears.

    Measured with torch's own FLOP counter, which counts 2 FLOPs per multiply-add; we halve it.
    Works on the "meta" device too (no memory, no compute), which is how the CLI counts R101s.
    """
    was_training = model.training
    model.eval()  # no BN statistics updated by counting
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(list(inputs) if not isinstance(inputs, torch.Tensor) else inputs)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / 2 / 1e9


def example_inputs(cfg: SlowFastConfig, size: int | None = None, batch_size: int = 1,
                   device: str | torch.device | None = None) -> list[torch.Tensor]:
    """Random inputs shaped for `cfg`: `[slow, fast]`, or `[clip]` for a single pathway."""
    size = size or cfg.crop_size
    slow = (batch_size, 3, cfg.slow_frames, size, size)
    fast = (batch_size, 3, cfg.fast_frames, size, size)
    shapes = {"slowfast": [slow, fast], "slow": [slow], "fast": [fast]}[cfg.arch]
    return [torch.randn(s, device=device) for s in shapes]
