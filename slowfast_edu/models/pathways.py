"""The Slow and Fast pathways: a stem and four residual stages each (the columns of Table 1).

The two differ only in their numbers: the Slow pathway sees T frames with C channels and uses
temporal kernels only in res4 and res5; the Fast pathway sees alpha*T frames with beta*C channels
and uses temporal kernels everywhere. The Slow pathway's stages are also wider at their input,
by the channels the lateral connections concatenate.
"""

from __future__ import annotations

from torch import nn

from .config import STAGES, SlowFastConfig
from .resnet import ResStage
from .stem import Stem

SPATIAL_STRIDES = (1, 2, 2, 2)  # res2 keeps the stem's 56 x 56; res3..res5 halve H and W


class Pathway(nn.Module):
    """stem -> res2 -> res3 -> res4 -> res5; call the parts in turn (laterals join in between)."""

    def __init__(self, cfg: SlowFastConfig, in_channels: int, stem_channels: int,
                 stem_kernel: int, inner: list[int], out: list[int], temporal_kernels: tuple,
                 lateral_channels: tuple[int, ...] = (0, 0, 0, 0),
                 nonlocal_blocks: tuple[tuple[int, ...], ...] = ((), (), (), ())) -> None:
        super().__init__()
        self.stem = Stem(in_channels, stem_channels, stem_kernel, cfg.pool1)
        width_in = stem_channels
        for s, name in enumerate(STAGES):
            kernels = [temporal_kernels[s]] * cfg.blocks[s]
            if name == "res4" and cfg.res4_temporal_blocks is not None:
                kernels = [k if i < cfg.res4_temporal_blocks else 1 for i, k in enumerate(kernels)]
            stride, dilation = SPATIAL_STRIDES[s], 1
            if name == "res5" and cfg.res5_dilation > 1:  # finer res5, same receptive field
                stride, dilation = 1, cfg.res5_dilation
            self.add_module(name, ResStage(width_in + lateral_channels[s], inner[s], out[s],
                                           kernels, stride, nonlocal_blocks[s], dilation))
            width_in = out[s]
        self.out_channels = width_in

    def stages(self) -> list[tuple[str, nn.Module]]:
        """(name, module) for stem, res2..res5, in order."""
        return [("stem", self.stem)] + [(name, getattr(self, name)) for name in STAGES]


def slow_widths(cfg: SlowFastConfig) -> tuple[int, list[int], list[int]]:
    """Stem channels, bottleneck inner channels and output channels of the Slow pathway."""
    inner = [cfg.width * 2 ** s for s in range(4)]  # 64, 128, 256, 512
    return cfg.width, inner, [4 * c for c in inner]  # out: 256, 512, 1024, 2048


class SlowPathway(Pathway):
    """Low frame rate, full channel capacity C: spatial semantics."""

    def __init__(self, cfg: SlowFastConfig, lateral_channels: tuple[int, ...] = (0, 0, 0, 0)):
        stem, inner, out = slow_widths(cfg)
        super().__init__(cfg, 3, stem, cfg.slow_stem_kernel, inner, out,
                         cfg.slow_temporal_kernels, lateral_channels, cfg.nonlocal_blocks)


class FastPathway(Pathway):
    """alpha times the frame rate, beta times the channels: motion."""

    def __init__(self, cfg: SlowFastConfig, in_channels: int = 3):
        stem, inner, out = slow_widths(cfg)
        super().__init__(cfg, in_channels, cfg.fast_channels(stem), cfg.fast_stem_kernel,
                         [cfg.fast_channels(c) for c in inner], [cfg.fast_channels(c) for c in out],
                         cfg.fast_temporal_kernels)
