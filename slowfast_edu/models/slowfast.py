"""The networks: SlowFast (two pathways joined by lateral connections), Slow-only and Fast-only.

Which lateral connection, which Fast input and which head a network has is named by its config
(`cfg.fusion`, `cfg.fast_input`, `cfg.head`) and built by the class registered under that name
(registry.py); this file only wires them together, as Figure 1 of the paper does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from .config import SlowFastConfig
from .fast_input import FAST_INPUTS
from .fusion import FUSIONS, LATERAL_POSITIONS, Laterals
from .head import HEADS
from .init import init_weights
from .pathways import FastPathway, SlowPathway, channel_widths


class SlowFast(nn.Module):
    """SlowFast (Feichtenhofer et al., ICCV 2019). Input: `[slow, fast]`, (B, 3, T, H, W) and
    (B, 3, alpha*T, H, W), float frames normalised as the presets' transforms do; output: the
    head's scores, logits (B, num_classes) for the classification head."""

    def __init__(self, cfg: SlowFastConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = channel_widths(cfg)
        # built in this order (Fast input, Fast pathway, laterals, Slow pathway, head), which is
        # the order init_weights visits them and so decides the weights a given seed gives
        self.fast_input = FAST_INPUTS.choose(cfg.fast_input).build(cfg)
        self.fast = FastPathway(cfg, in_channels=self.fast_input.channels)
        fusion = FUSIONS.choose(cfg.fusion)
        self.laterals = Laterals({
            position: fusion.build(cfg, widths["fast"].after(position),
                                   widths["slow"].after(position))
            for position in LATERAL_POSITIONS})
        for lateral in self.laterals.values():  # the Fast input knows how sizes are matched
            lateral.to_slow_size = self.fast_input.lateral_resize()
        self.slow = SlowPathway(cfg, tuple(lat.out_channels for lat in self.laterals.values()))
        self.head = HEADS.choose(cfg.head).build(cfg, [self.slow.out_channels,
                                                      self.fast.out_channels])
        init_weights(self)

    def forward(self, inputs: Sequence[torch.Tensor], *head_inputs: torch.Tensor) -> torch.Tensor:
        # shapes for SlowFast 4x16 R50 at 224 (Table 1), batch B; `head_inputs` go to the head
        slow, fast = self._check_inputs(inputs)  # (B, 3, 4, 224, 224), (B, 3, 32, 224, 224)
        fast = self.fast_input(fast)  # grey, time difference, half size, or as it is
        slow, fast = self.slow.stem(slow), self.fast.stem(fast)  # conv1, pool1
        #                                             (B, 64, 4, 56, 56), (B, 8, 32, 56, 56)
        slow = self.laterals.pool1(slow, fast)  # Fast -> Slow: (B, 64 + 16, 4, 56, 56)
        slow, fast = self.slow.res2(slow), self.fast.res2(fast)  # (B, 256, ...), (B, 32, ...)
        slow = self.laterals.res2(slow, fast)  # (B, 256 + 64, 4, 56, 56)
        slow, fast = self.slow.res3(slow), self.fast.res3(fast)  # (B, 512, 4, 28, 28), ...
        slow = self.laterals.res3(slow, fast)  # (B, 512 + 128, 4, 28, 28)
        slow, fast = self.slow.res4(slow), self.fast.res4(fast)  # (B, 1024, 4, 14, 14), ...
        slow = self.laterals.res4(slow, fast)  # (B, 1024 + 256, 4, 14, 14)
        slow, fast = self.slow.res5(slow), self.fast.res5(fast)  # (B, 2048, 4, 7, 7),
        #                                                          (B, 256, 32, 7, 7)
        return self.head([slow, fast], *head_inputs)  # no lateral after res5: the head joins them

    def _check_inputs(self, inputs: object) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        if isinstance(inputs, torch.Tensor) or len(inputs) != 2:
            raise ValueError("SlowFast takes a list [slow, fast] of two clips; build it from one "
                             "clip with slowfast_edu.pack_pathways(frames, alpha)")
        slow = _check_clip(inputs[0], "slow clip", (3,))
        fast = _check_clip(inputs[1], "fast clip", (3, self.fast_input.channels))
        slow, fast = _as_weights_dtype(self, [slow, fast])
        t_slow, t_fast = slow.shape[2], fast.shape[2]
        if t_fast % cfg.alpha:
            raise ValueError(f"the fast clip has {t_fast} frames, which is not divisible by "
                             f"alpha={cfg.alpha}; give it a multiple of {cfg.alpha} frames")
        joins_in_time = any(lateral.joins_in_time for lateral in self.laterals.values())
        if joins_in_time and t_slow * cfg.alpha != t_fast:
            raise ValueError(f"the slow clip has {t_slow} frames and the fast clip {t_fast}: the "
                             f"fast clip must have alpha={cfg.alpha} times as many frames")
        return slow, fast  # the caller's list is never modified


class SinglePathway(nn.Module):
    """Slow-only or Fast-only: one pathway and its head. Input: a tensor or a one-element list."""

    def __init__(self, cfg: SlowFastConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.pathway_name = cfg.arch  # "slow" or "fast": the attribute the pathway lives under
        if cfg.arch == "slow":
            self.slow = SlowPathway(cfg)
        else:
            self.fast_input = FAST_INPUTS.choose(cfg.fast_input).build(cfg)
            self.fast = FastPathway(cfg, in_channels=self.fast_input.channels)
        self.head = HEADS.choose(cfg.head).build(cfg, [self.pathway.out_channels])
        init_weights(self)

    @property
    def pathway(self) -> nn.Module:
        """The one pathway (also reachable as `.slow` or `.fast`)."""
        return getattr(self, self.pathway_name)

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor],
                *head_inputs: torch.Tensor) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor):
            if len(inputs) != 1:
                raise ValueError(f"a {self.pathway_name}-only model takes one clip (a tensor or a "
                                 f"one-element list), got a list of {len(inputs)}")
            inputs = inputs[0]
        channels = (3, self.fast_input.channels) if self.pathway_name == "fast" else (3,)
        x = _check_clip(inputs, f"{self.pathway_name} clip", channels)
        [x] = _as_weights_dtype(self, [x])
        if self.pathway_name == "fast":
            x = self.fast_input(x)  # grey, time difference, half size, or as it is
        return self.head([self.pathway(x)], *head_inputs)  # stem, res2..res5, head


def build_network(cfg: SlowFastConfig) -> nn.Module:
    """The network `cfg` describes: SlowFast, or a single pathway."""
    return SlowFast(cfg) if cfg.arch == "slowfast" else SinglePathway(cfg)


def _check_clip(x: object, what: str, channels: tuple[int, ...]) -> torch.Tensor:
    """`x` as the network takes it, or an error that says what it should be."""
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"the {what} must be a (B, C, T, H, W) tensor, got {shape}; add a batch "
                         f"axis with x[None] for a single clip")
    if not x.is_floating_point():
        raise TypeError(
            f"the {what} holds {x.dtype} values, but the network takes float frames normalised "
            f"as the presets' transforms do: (pixels / 255 - 0.45) / 0.225 on every channel. "
            f"slowfast_edu.data.test_transform(short_side, crop_size) does it (with the resize "
            f"and crop) for decoded (T, H, W, 3) uint8 frames")
    if x.shape[1] not in channels:
        hint = (" (frames in (B, T, H, W, 3) order? use x.permute(0, 4, 1, 2, 3))"
                if x.shape[-1] == 3 else "")
        raise ValueError(f"the {what} has {x.shape[1]} channels on axis 1, the network takes "
                         f"{' or '.join(map(str, sorted(set(channels))))}: (B, C, T, H, W){hint}")
    return x


def _as_weights_dtype(model: nn.Module, clips: list[torch.Tensor]) -> list[torch.Tensor]:
    """Float clips of another precision than the weights (float64 from NumPy, say), converted."""
    dtype = next(model.parameters()).dtype
    given = sorted({str(x.dtype) for x in clips if x.dtype != dtype})
    if not given or torch.is_autocast_enabled(clips[0].device.type):  # autocast casts itself
        return clips
    warnings.warn(f"the clips are {', '.join(given)} and the network's weights {dtype}: "
                  f"converted to {dtype}", stacklevel=3)
    return [x.to(dtype) for x in clips]
