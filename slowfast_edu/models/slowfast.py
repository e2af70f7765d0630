"""The networks: SlowFast (two pathways joined by lateral connections), Slow-only and Fast-only."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .config import STAGES, SlowFastConfig
from .fast_input import FastInput
from .fusion import build_lateral
from .head import Head
from .init import init_weights
from .pathways import FastPathway, SlowPathway, slow_widths

LATERAL_AFTER = ("stem", "res2", "res3", "res4")  # never after res5: the head fuses those


class SlowFast(nn.Module):
    """SlowFast (Feichtenhofer et al., ICCV 2019). Input: `[slow, fast]`, (B, 3, T, H, W) and
    (B, 3, alpha*T, H, W); output: logits (B, num_classes)."""

    def __init__(self, cfg: SlowFastConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.fast_input = FastInput(cfg.fast_input)
        self.fast = FastPathway(cfg, in_channels=self.fast_input.channels)
        stem, _, out = slow_widths(cfg)
        slow_channels = [stem] + out[:3]  # Slow features each lateral joins
        fast_channels = [self.fast.stem.conv.out_channels] + [
            getattr(self.fast, name)[0].conv_c.out_channels for name in STAGES[:3]]
        self.laterals = nn.ModuleDict({
            name: build_lateral(cfg.fusion, c_fast, c_slow, cfg.alpha, cfg.fusion_kernel,
                                cfg.fusion_ratio)
            for name, c_fast, c_slow in zip(LATERAL_AFTER, fast_channels, slow_channels)})
        self.slow = SlowPathway(cfg, tuple(lat.out_channels for lat in self.laterals.values()))
        self.head = Head([self.slow.out_channels, self.fast.out_channels], cfg.num_classes,
                         cfg.dropout)
        init_weights(self)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        slow, fast = _check_inputs(inputs, self.cfg)  # the caller's list is never modified
        fast = self.fast_input(fast)
        for (name, slow_stage), (_, fast_stage) in zip(self.slow.stages(), self.fast.stages()):
            slow, fast = slow_stage(slow), fast_stage(fast)
            if name in self.laterals:
                slow = self.laterals[name](slow, fast)  # Fast -> Slow
        return self.head([slow, fast])


class SinglePathway(nn.Module):
    """Slow-only or Fast-only: one pathway and its head. Input: a tensor or a one-element list."""

    def __init__(self, cfg: SlowFastConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.pathway_name = cfg.arch  # "slow" or "fast": the attribute the pathway lives under
        if cfg.arch == "slow":
            pathway: nn.Module = SlowPathway(cfg)
        else:
            self.fast_input = FastInput(cfg.fast_input)
            pathway = FastPathway(cfg, in_channels=self.fast_input.channels)
        self.add_module(cfg.arch, pathway)
        self.head = Head([pathway.out_channels], cfg.num_classes, cfg.dropout)
        init_weights(self)

    @property
    def pathway(self) -> nn.Module:
        """The one pathway (also reachable as `.slow` or `.fast`)."""
        return getattr(self, self.pathway_name)

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor):
            if len(inputs) != 1:
                raise ValueError(f"a {self.pathway_name}-only model takes one clip (a tensor or a "
                                 f"one-element list), got a list of {len(inputs)}")
            inputs = inputs[0]
        x = _check_clip(inputs, f"{self.pathway_name} clip")
        if self.pathway_name == "fast":
            x = self.fast_input(x)
        for _, stage in self.pathway.stages():
            x = stage(x)
        return self.head([x])


def build_network(cfg: SlowFastConfig) -> nn.Module:
    """The network `cfg` describes: SlowFast, or a single pathway."""
    return SlowFast(cfg) if cfg.arch == "slowfast" else SinglePathway(cfg)


def _check_clip(x: object, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"the {what} must be a (B, C, T, H, W) tensor, got {shape}; add a batch "
                         f"axis with x[None] for a single clip")
    return x


def _check_inputs(inputs: object, cfg: SlowFastConfig) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(inputs, torch.Tensor) or len(inputs) != 2:
        raise ValueError("SlowFast takes a list [slow, fast] of two clips; build it from one clip "
                         "with slowfast_edu.pack_pathways(frames, alpha)")
    slow, fast = _check_clip(inputs[0], "slow clip"), _check_clip(inputs[1], "fast clip")
    t_slow, t_fast = slow.shape[2], fast.shape[2]
    if t_fast % cfg.alpha:
        raise ValueError(f"the fast clip has {t_fast} frames, which is not divisible by "
                         f"alpha={cfg.alpha}; give it a multiple of {cfg.alpha} frames")
    if cfg.fusion != "none" and t_slow * cfg.alpha != t_fast:
        raise ValueError(f"the slow clip has {t_slow} frames and the fast clip {t_fast}: the fast "
                         f"clip must have alpha={cfg.alpha} times as many frames")
    return slow, fast
