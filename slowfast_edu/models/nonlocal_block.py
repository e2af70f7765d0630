"""The non-local block (Wang et al., CVPR 2018) that the paper adds to the Slow pathway's res4.

Every position attends to every other position of the clip (all T x H x W), which lets the
network relate things far apart in space and time. Embedded-Gaussian form, as in PySlowFast.
"""

from __future__ import annotations

import torch
from torch import nn

from .stem import BN_EPS, BN_MOMENTUM


class NonLocal(nn.Module):
    """y = x + BN(W_out * softmax(theta(x)^T phi(x) / sqrt(C')) g(x)), with C' = C / 2."""

    def __init__(self, channels: int, pool_size: tuple[int, int, int] = (1, 2, 2)) -> None:
        super().__init__()
        self.inner = channels // 2
        self.conv_theta = nn.Conv3d(channels, self.inner, kernel_size=1)
        self.conv_phi = nn.Conv3d(channels, self.inner, kernel_size=1)
        self.conv_g = nn.Conv3d(channels, self.inner, kernel_size=1)
        # keys and values are computed on a spatially max-pooled map to save compute
        self.pool = nn.MaxPool3d(kernel_size=pool_size, stride=pool_size)
        self.conv_out = nn.Conv3d(self.inner, channels, kernel_size=1)
        self.bn = nn.BatchNorm3d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        nn.init.zeros_(self.bn.weight)  # gamma 0: the block starts as the identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t, h, w = x.shape
        query = self.conv_theta(x).flatten(2)  # (B, C', THW)
        pooled = self.pool(x)  # (B, C, T, H/2, W/2)
        key = self.conv_phi(pooled).flatten(2)  # (B, C', N)
        value = self.conv_g(pooled).flatten(2)  # (B, C', N)
        attention = torch.einsum("bcq,bck->bqk", query, key) * self.inner ** -0.5
        attention = attention.softmax(dim=-1)  # (B, THW, N)
        y = torch.einsum("bqk,bck->bcq", attention, value)  # (B, C', THW)
        y = y.reshape(b, self.inner, t, h, w)  # (B, C', T, H, W)
        return x + self.bn(self.conv_out(y))
