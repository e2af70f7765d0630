"""Lateral connections: how the Fast pathway's features flow into the Slow pathway (Sec. 3.3).

The Fast features are {alpha*T, S^2, beta*C}, the Slow ones {T, S^2, C}. A lateral connection must
bring the Fast features to T frames before they can be fused with the Slow ones. The paper tries:

- time-to-channel (TtoC): pack the alpha frames of each Slow step into channels,
  {alpha*T, S^2, beta*C} -> {T, S^2, alpha*beta*C}, then sum (needs alpha*beta*C == C) or concatenate;
- time-strided sampling (T-sample): keep one of every alpha frames, {T, S^2, beta*C}, concatenate;
- time-strided convolution (T-conv, the default): a 3D conv with kernel [k, 1, 1], temporal stride
  alpha and 2*beta*C outputs, then BN and ReLU, concatenate;
- none: the two pathways meet only at the head.

Connections sit after pool1, res2, res3 and res4 (`LATERAL_POSITIONS`) and go one way, Fast -> Slow.
Each kind is a class in the `FUSIONS` registry (see registry.py); `cfg.fusion` names one. How a
connection's output is brought to the Slow features' height and width is the Fast input's business
(fast_input.py): at half resolution it is upsampled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from .fast_input import same_size
from .inference import fold_conv_bn_relu
from .registry import Registry
from .stem import BN_EPS, BN_MOMENTUM

if TYPE_CHECKING:
    from .config import SlowFastConfig

LATERAL_POSITIONS = ("pool1", "res2", "res3", "res4")  # never after res5: the head fuses those


class LateralConnection(nn.Module):
    """Base class: `transform` the Fast features to T frames, then fuse them into the Slow ones."""

    mode = "concat"  # or "sum"
    joins_in_time = True  # fuses frame by frame: the Fast clip must be alpha times the Slow one
    # the references' names for a lateral's conv and BN (their only lateral is the T-conv)
    checkpoint_layers = {"conv": ("conv_fast_to_slow", "conv_f2s"), "bn": ("norm", "bn")}

    def __init__(self, fast_channels: int, alpha: int) -> None:
        super().__init__()
        self.fast_channels, self.alpha = fast_channels, alpha
        # (lateral, slow) -> lateral at the Slow H x W; the network sets its Fast input's choice
        self.to_slow_size = same_size

    @classmethod
    def build(cls, cfg: SlowFastConfig, fast_channels: int, slow_channels: int
              ) -> LateralConnection:
        """The connection joining `fast_channels` Fast channels to `slow_channels` Slow ones."""
        return cls(fast_channels, cfg.alpha)

    @property
    def out_channels(self) -> int:
        """Channels this connection adds to the Slow features (0 when it sums)."""
        raise NotImplementedError

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        """(B, beta*C, alpha*T, H, W) -> (B, out_channels, T, H, W)."""
        raise NotImplementedError

    def describe(self) -> str | None:
        """Its row of Table 1 (None: no row, nothing joins here)."""
        return type(self).__name__

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        """The module to run at test time; without BatchNorm, itself."""
        return self

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        lateral = self.transform(fast)  # (B, C_lateral, T, H_fast, W_fast)
        if lateral.shape[2] != slow.shape[2]:
            raise ValueError(
                f"{type(self).__name__}: the Fast pathway has {fast.shape[2]} frames, which gives "
                f"{lateral.shape[2]} after the lateral connection, but the Slow pathway has "
                f"{slow.shape[2]}: the Fast clip must be alpha={self.alpha} times longer")
        lateral = self.to_slow_size(lateral, slow)  # (B, C_lateral, T, H, W)
        if self.mode == "sum":
            return slow + lateral  # (B, C, T, H, W)
        return torch.cat([slow, lateral], dim=1)  # (B, C + C_lateral, T, H, W)


FUSIONS = Registry("fusion", LateralConnection)


@FUSIONS.register("time_strided_conv")
class TimeStridedConv(LateralConnection):
    """T-conv: conv [k, 1, 1] with stride [alpha, 1, 1], ratio*beta*C outputs, BN, ReLU."""

    def __init__(self, fast_channels: int, alpha: int, kernel: int = 5, ratio: int = 2) -> None:
        super().__init__(fast_channels, alpha)
        self.conv = nn.Conv3d(fast_channels, ratio * fast_channels, kernel_size=(kernel, 1, 1),
                              stride=(alpha, 1, 1), padding=(kernel // 2, 0, 0), bias=False)
        self.bn = nn.BatchNorm3d(ratio * fast_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU()

    @classmethod
    def build(cls, cfg: SlowFastConfig, fast_channels: int, slow_channels: int
              ) -> TimeStridedConv:
        return cls(fast_channels, cfg.alpha, cfg.fusion_kernel, cfg.fusion_ratio)

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(fast)))  # (B, 2*beta*C, T, H, W)

    def describe(self) -> str:
        kernel = "x".join(map(str, self.conv.kernel_size))
        return f"Fast->Slow T-conv {kernel}, {self.out_channels}, stride {self.alpha}, concat"

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        fold_conv_bn_relu(self, fuse_relu)  # conv -> bn -> relu, as in the stem
        return self


@FUSIONS.register("time_strided_sample")
class TimeStridedSample(LateralConnection):
    """T-sample: keep the first of every alpha Fast frames."""

    @property
    def out_channels(self) -> int:
        return self.fast_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        return fast[:, :, :: self.alpha]  # (B, beta*C, T, H, W)

    def describe(self) -> str:
        return f"Fast->Slow T-sample 1 of {self.alpha} frames, {self.out_channels}, concat"


@FUSIONS.register("time_to_channel_concat")
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

    def describe(self) -> str:
        return (f"Fast->Slow time-to-channel ({self.alpha} frames -> "
                f"{self.alpha * self.fast_channels} channels), {self.mode}")


@FUSIONS.register("time_to_channel_sum")
class TimeToChannelSum(TimeToChannel):
    """TtoC summed into the Slow features: needs alpha*beta*C == C (alpha = 1/beta)."""

    def __init__(self, fast_channels: int, alpha: int, slow_channels: int) -> None:
        super().__init__(fast_channels, alpha, "sum", slow_channels)

    @classmethod
    def build(cls, cfg: SlowFastConfig, fast_channels: int, slow_channels: int
              ) -> TimeToChannelSum:
        return cls(fast_channels, cfg.alpha, slow_channels)


@FUSIONS.register("none")
class NoFusion(LateralConnection):
    """SlowFast without fusion: the Slow features pass unchanged; the pathways meet at the head."""

    joins_in_time = False  # nothing is fused, so the two clips need not cover the same frames

    def __init__(self, fast_channels: int = 0, alpha: int = 1) -> None:
        super().__init__(fast_channels, alpha)

    @property
    def out_channels(self) -> int:
        return 0

    def describe(self) -> None:
        return None

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        return slow  # (B, C, T, H, W)


class Laterals(nn.ModuleDict):
    """A SlowFast's lateral connections, keyed by the stage they follow (`LATERAL_POSITIONS`):
    "pool1" (the paper's name; checkpoints of before issue 14 said "stem", which the converters
    and `rename_legacy_keys` still read), "res2", "res3", "res4"."""
