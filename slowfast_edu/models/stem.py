"""The stem: the first convolution and max pooling of each pathway ("conv1" and "pool1" in Table 1)."""

from __future__ import annotations

import torch
from torch import nn

BN_EPS, BN_MOMENTUM = 1e-5, 0.1


class Stem(nn.Module):
    """conv kt x 7 x 7 with spatial stride 2, BN, ReLU, then max pool 1 x 3 x 3 with spatial stride 2.

    The Slow pathway's stem has kt = 1 (no temporal mixing at the start), the Fast pathway's kt = 5.
    Neither strides in time: each pathway keeps its frame rate to the end. `pool=False` leaves
    the max pooling out (H/2, W/2 out instead of H/4, W/4), as ResNets for small images do.
    """

    def __init__(self, in_channels: int, out_channels: int, temporal_kernel: int,
                 pool: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size=(temporal_kernel, 7, 7),
                              stride=(1, 2, 2), padding=(temporal_kernel // 2, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU()
        self.pool = (nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
                     if pool else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn(self.conv(x)))  # (B, C, T, H/2, W/2)
        return self.pool(x)  # (B, C, T, H/4, W/4); without pool1 (B, C, T, H/2, W/2)
