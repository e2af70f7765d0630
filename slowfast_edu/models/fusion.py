"""Lateral connections: how the Fast pathway's features flow into the Slow pathway (Sec. 3.3).

The Fast features are {alpha*T, S^2, beta*C}, the Slow ones {T, S^2, C}. A lateral connection must
bring the Fast features to T frames before they can be fused with the Slow ones. The paper tries:

- time-to-channel (TtoC): pack the alpha frames of each Slow step into channels,
  {alpha*T, S^2, beta*C} -> {T, S^2, alpha*beta*C}, then sum (needs alpha*beta*C == C) or concatenate;
- time-strided sampling (T-sample): keep one of every alpha frames, {T, S^2, beta*C}, concatenate;
- time-strided convolution (T-conv, the default): a 3D conv with kernel [k, 1, 1], temporal stride
  alpha and 2*beta*C outputs, then BN and ReLU, concatenate;
- none: the two pathways meet only at the head.

Connections sit after pool1, res2, res3 and res4 and go one way, Fast -> Slow.
When the Fast pathway sees half-resolution frames (`fast_input="half_res"`) its features are half
the Slow ones' size: the connection then upsamples its output (nearest neighbour, each Fast
position copied to the 2x2 Slow positions it covers) before fusing. The paper does not say how it
matched sizes; this is our documented choice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .stem import BN_EPS, BN_MOMENTUM


class LateralConnection(nn.Module):
    """Base class: `transform` the Fast features to T frames, then fuse them into the Slow ones."""

    mode = "concat"  # or "sum"

    def __init__(self, fast_channels: int, alpha: int) -> None:
        super().__init__()
        self.fast_channels, self.alpha = fast_channels, alpha

    @property
    def out_channels(self) -> int:
        """Channels this connection adds to the Slow features (0 when it sums)."""
        raise NotImplementedError

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        """(B, beta*C, alpha*T, H, W) -> (B, out_channels, T, H, W)."""
        raise NotImplementedError

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        lateral = self.transform(fast)  # (B, C_lateral, T, H_fast, W_fast)
        if lateral.shape[2] != slow.shape[2]:
            raise ValueError(
                f"{type(self).__name__}: the Fast pathway has {fast.shape[2]} frames, which gives "
                f"{lateral.shape[2]} after the lateral connection, but the Slow pathway has "
                f"{slow.shape[2]}: the Fast clip must be alpha={self.alpha} times longer")
        if lateral.shape[-2:] != slow.shape[-2:]:  # half-resolution Fast input
            lateral = F.interpolate(lateral, size=(lateral.shape[2], *slow.shape[-2:]),
                                    mode="nearest")  # (B, C_lateral, T, H, W)
        if self.mode == "sum":
            return slow + lateral  # (B, C, T, H, W)
        return torch.cat([slow, lateral], dim=1)  # (B, C + C_lateral, T, H, W)


class TimeStridedConv(LateralConnection):
    """T-conv: conv [k, 1, 1] with stride [alpha, 1, 1], ratio*beta*C outputs, BN, ReLU."""

    def __init__(self, fast_channels: int, alpha: int, kernel: int = 5, ratio: int = 2) -> None:
        super().__init__(fast_channels, alpha)
        self.conv = nn.Conv3d(fast_channels, ratio * fast_channels, kernel_size=(kernel, 1, 1),
                              stride=(alpha, 1, 1), padding=(kernel // 2, 0, 0), bias=False)
        self.bn = nn.BatchNorm3d(ratio * fast_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU()

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(fast)))  # (B, 2*beta*C, T, H, W)


class TimeStridedSample(LateralConnection):
    """T-sample: keep the first of every alpha Fast frames."""

    @property
    def out_channels(self) -> int:
        return self.fast_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        return fast[:, :, :: self.alpha]  # (B, beta*C, T, H, W)


class TimeToChannel(LateralConnection):
    """TtoC: pack each group of alpha consecutive Fast frames into the channel axis.

    Channel j * beta*C + c of Slow step t holds channel c of Fast frame alpha*t + j.
    """

    def __init__(self, fast_channels: int, alpha: int, mode: str = "concat",
                 slow_channels: int | None = None) -> None:
        super().__init__(fast_channels, alpha)
        self.mode = mode
        if mode == "sum" and alpha * fast_channels != slow_channels:
            raise ValueError(
                f"time_to_channel_sum adds alpha*beta*C = {alpha}*{fast_channels} = "
                f"{alpha * fast_channels} Fast channels to {slow_channels} Slow channels; they "
                f"must be equal (the paper uses alpha=8 with beta=1/8), or use "
                f"fusion='time_to_channel_concat'")

    @property
    def out_channels(self) -> int:
        return 0 if self.mode == "sum" else self.alpha * self.fast_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        b, c, frames, h, w = fast.shape
        if frames % self.alpha:
            raise ValueError(f"TimeToChannel: {frames} Fast frames cannot be packed in groups of "
                             f"alpha={self.alpha}")
        t = frames // self.alpha
        x = fast.reshape(b, c, t, self.alpha, h, w)  # (B, beta*C, T, alpha, H, W)
        x = x.permute(0, 3, 1, 2, 4, 5)  # (B, alpha, beta*C, T, H, W)
        return x.reshape(b, self.alpha * c, t, h, w)  # (B, alpha*beta*C, T, H, W)


class NoFusion(nn.Module):
    """'SlowFast without fusion': the Slow features pass unchanged."""

    out_channels = 0

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        return slow


def build_lateral(fusion: str, fast_channels: int, slow_channels: int, alpha: int,
                  kernel: int = 5, ratio: int = 2) -> nn.Module:
    """The lateral connection named `fusion` for Fast features of `fast_channels` channels."""
    if fusion == "time_strided_conv":
        return TimeStridedConv(fast_channels, alpha, kernel, ratio)
    if fusion == "time_strided_sample":
        return TimeStridedSample(fast_channels, alpha)
    if fusion == "time_to_channel_sum":
        return TimeToChannel(fast_channels, alpha, "sum", slow_channels)
    if fusion == "time_to_channel_concat":
        return TimeToChannel(fast_channels, alpha, "concat")
    if fusion == "none":
        return NoFusion()
    raise ValueError(f"unknown fusion {fusion!r}")
