"""The Slow and Fast pathways: a stem and four residual stages each (the columns of Table 1).

The two differ only in their numbers: the Slow pathway sees T frames with C channels and uses
temporal kernels only in res4 and res5; the Fast pathway sees alpha*T frames with beta*C channels
and uses temporal kernels everywhere. The Slow pathway's stages are also wider at their input,
by the channels the lateral connections concatenate. `channel_widths(cfg)` is the one place the
channel numbers of both are worked out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import SlowFastConfig
from .resnet import ResStage
from .stem import Stem


@dataclass(frozen=True)
class Widths:
    """The channels of one pathway: its stem, and each stage's bottleneck inner and output width."""

    stem: int  # conv1 and pool1
    inner: tuple[int, int, int, int]  # res2..res5: the bottlenecks' 1x1 "a" and 3x3 "b" convs
    out: tuple[int, int, int, int]  # res2..res5: each stage's output (the 1x1 "c" conv)

    def after(self, stage: str) -> int:
        """Channels of the features after `stage` ("pool1", "res2", ..., "res5")."""
        return self.stem if stage == "pool1" else self.out[int(stage[-1]) - 2]


def channel_widths(cfg: SlowFastConfig) -> dict[str, Widths]:
    """{"slow": ..., "fast": ...}: R50 has Slow 64 / 64, 128, 256, 512 / 256, 512, 1024, 2048
    and, with beta = 1/8, Fast 8 / 8, 16, 32, 64 / 32, 64, 128, 256 (Table 1)."""
    inner = tuple(cfg.width * 2 ** s for s in range(4))  # 64, 128, 256, 512
    slow = Widths(cfg.width, inner, tuple(4 * c for c in inner))  # out: 256, 512, 1024, 2048

    def beta(c: int) -> int:  # beta * C, rounded (beta = 1/6 or 1/12 do not divide 64)
        return max(1, round(c / cfg.beta_inv))

    fast = Widths(beta(slow.stem), tuple(map(beta, slow.inner)), tuple(map(beta, slow.out)))
    return {"slow": slow, "fast": fast}


class Pathway(nn.Module):
    """stem -> res2 -> res3 -> res4 -> res5; call the parts in turn (laterals join in between)."""

    def __init__(self, cfg: SlowFastConfig, widths: Widths, in_channels: int, stem_kernel: int,
                 temporal_kernels: tuple[int | tuple[int, ...], ...],
                 lateral_channels: tuple[int, int, int, int] = (0, 0, 0, 0),
                 nonlocal_blocks: tuple[tuple[int, ...], ...] = ((), (), (), ())) -> None:
        super().__init__()
        w, extra, blocks, nl = widths, lateral_channels, cfg.blocks, nonlocal_blocks

        def kernels(stage: int) -> list[int]:  # conv "a"'s temporal kernel in each block
            pattern = temporal_kernels[stage]  # one kernel, or a pattern repeated: I3D's (3, 1)
            pattern = pattern if isinstance(pattern, tuple) else (pattern,)
            ks = [pattern[i % len(pattern)] for i in range(blocks[stage])]
            if stage == 2 and cfg.res4_temporal_blocks is not None:  # the paper's R101: first 6
                ks = [k if i < cfg.res4_temporal_blocks else 1 for i, k in enumerate(ks)]
            return ks

        # res5 of the paper's AVA detector keeps res4's H x W: stride 1, 3 x 3 convs dilated by 2
        res5_stride = 2 if cfg.res5_dilation == 1 else 1
        # each stage: input channels (+ the lateral's), inner and output channels, conv "a" kernels
        self.stem = Stem(in_channels, w.stem, stem_kernel, cfg.pool1)
        self.res2 = ResStage(w.stem + extra[0], w.inner[0], w.out[0], kernels(0),
                             spatial_stride=1, nonlocal_after=nl[0])
        # C2D and I3D halve T after res2 with a max pool (PyTorchVideo's blocks.2, PySlowFast's
        # pathway0_pool); SlowFast never pools in time. None when absent: no module, no row
        t = cfg.res2_temporal_pool
        self.pool2 = nn.MaxPool3d(kernel_size=(t, 1, 1), stride=(t, 1, 1)) if t > 1 else None
        self.res3 = ResStage(w.out[0] + extra[1], w.inner[1], w.out[1], kernels(1),
                             spatial_stride=2, nonlocal_after=nl[1])
        self.res4 = ResStage(w.out[1] + extra[2], w.inner[2], w.out[2], kernels(2),
                             spatial_stride=2, nonlocal_after=nl[2])
        self.res5 = ResStage(w.out[2] + extra[3], w.inner[3], w.out[3], kernels(3),
                             spatial_stride=res5_stride, nonlocal_after=nl[3],
                             dilation=cfg.res5_dilation)
        self.out_channels = w.out[3]

    def stages(self) -> list[tuple[str, nn.Module]]:
        """(name, module) for stem, res2..res5, in order."""
        return [("stem", self.stem), ("res2", self.res2), ("res3", self.res3),
                ("res4", self.res4), ("res5", self.res5)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The whole pathway alone (Slow-only, Fast-only); sizes with pool1 and a stride-2 res5."""
        x = self.stem(x)  # (B, C_stem, T, H/4, W/4)
        x = self.res2(x)  # (B, 4 C_stem, T, H/4, W/4)
        if self.pool2 is not None:
            x = self.pool2(x)  # C2D, I3D: (B, 4 C_stem, T/2, H/4, W/4); T/2 from here on
        x = self.res3(x)  # (B, 8 C_stem, T, H/8, W/8)
        x = self.res4(x)  # (B, 16 C_stem, T, H/16, W/16)
        return self.res5(x)  # (B, 32 C_stem, T, H/32, W/32)


class SlowPathway(Pathway):
    """Low frame rate, full channel capacity C: spatial semantics."""

    def __init__(self, cfg: SlowFastConfig,
                 lateral_channels: tuple[int, int, int, int] = (0, 0, 0, 0)) -> None:
        super().__init__(cfg, channel_widths(cfg)["slow"], 3, cfg.slow_stem_kernel,
                         cfg.slow_temporal_kernels, lateral_channels, cfg.nonlocal_blocks)


class FastPathway(Pathway):
    """alpha times the frame rate, beta times the channels: motion."""

    def __init__(self, cfg: SlowFastConfig, in_channels: int = 3) -> None:
        super().__init__(cfg, channel_widths(cfg)["fast"], in_channels, cfg.fast_stem_kernel,
                         cfg.fast_temporal_kernels)
