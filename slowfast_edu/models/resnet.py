"""The residual building blocks: the bottleneck and a stage of bottlenecks ("res2".."res5").

SlowFast's one change to the ResNet bottleneck is where time is modelled: a temporal kernel
(3 x 1 x 1) on the first 1 x 1 convolution "a", never on the spatial 3 x 3 "b". The Slow pathway
uses it only in res4 and res5 (the paper found temporal kernels early on hurt: "non-degenerate"
temporal filters only where the receptive field is large enough), the Fast pathway everywhere.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .nonlocal_block import NonLocal
from .stem import BN_EPS, BN_MOMENTUM


def _bn(channels: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)  # gamma 1, beta 0


class Bottleneck(nn.Module):
    """[kt x 1 x 1, C_inner] -> [1 x 3 x 3, C_inner] -> [1 x 1 x 1, C_out], plus the shortcut."""

    def __init__(self, in_channels: int, inner_channels: int, out_channels: int,
                 temporal_kernel: int = 1, spatial_stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv_a = nn.Conv3d(in_channels, inner_channels, kernel_size=(temporal_kernel, 1, 1),
                                padding=(temporal_kernel // 2, 0, 0), bias=False)
        self.bn_a = _bn(inner_channels)
        self.conv_b = nn.Conv3d(inner_channels, inner_channels, kernel_size=(1, 3, 3),
                                stride=(1, spatial_stride, spatial_stride),
                                padding=(0, dilation, dilation), dilation=(1, dilation, dilation),
                                bias=False)
        self.bn_b = _bn(inner_channels)
        self.conv_c = nn.Conv3d(inner_channels, out_channels, kernel_size=1, bias=False)
        self.bn_c = _bn(out_channels)
        nn.init.zeros_(self.bn_c.weight)  # gamma 0: each residual block starts as the identity
        self.relu = nn.ReLU()
        self.shortcut = None
        if in_channels != out_channels or spatial_stride != 1:
            self.shortcut = nn.Sequential(OrderedDict(
                conv=nn.Conv3d(in_channels, out_channels, kernel_size=1,
                               stride=(1, spatial_stride, spatial_stride), bias=False),
                bn=_bn(out_channels),
            ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)  # (B, C_out, T, H/s, W/s)
        x = self.relu(self.bn_a(self.conv_a(x)))  # (B, C_inner, T, H, W)
        x = self.relu(self.bn_b(self.conv_b(x)))  # (B, C_inner, T, H/s, W/s)
        x = self.bn_c(self.conv_c(x))  # (B, C_out, T, H/s, W/s)
        return self.relu(x + identity)


class ResStage(nn.Sequential):
    """A stage of bottlenecks; the first one changes width and (from res3 on) halves H and W.

    Blocks are named "0", "1", ...; an optional non-local block after block i is "nonlocal{i}"
    (the layout PySlowFast's checkpoints use too). `dilation` spaces the taps of every 3 x 3
    conv "b" (a stage that keeps its input's H x W instead of halving it sees as far this way).
    """

    def __init__(self, in_channels: int, inner_channels: int, out_channels: int,
                 temporal_kernels: list[int], spatial_stride: int,
                 nonlocal_after: tuple[int, ...] = (), dilation: int = 1) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for i, kernel in enumerate(temporal_kernels):
            layers[str(i)] = Bottleneck(in_channels if i == 0 else out_channels, inner_channels,
                                        out_channels, kernel, spatial_stride if i == 0 else 1,
                                        dilation)
            if i in nonlocal_after:
                layers[f"nonlocal{i}"] = NonLocal(out_channels)
        super().__init__(layers)
