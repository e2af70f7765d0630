"""What the Fast pathway sees (Sec. 4.2, "weaker spatial inputs to the Fast pathway").

The paper shows the Fast pathway does not need full-quality frames, because its job is motion:
it tries grey-scale frames, time-difference frames and half-resolution frames. The model takes the
same `[slow, fast]` RGB clips in every case and derives the weaker input itself, so the data
pipeline never changes. Each input is a class in the `FAST_INPUTS` registry (see registry.py).

A Fast input also decides how the lateral connections match the Slow features' size. At full
resolution nothing is to be done. At half resolution (`"half_res"`) the Fast features are half the
Slow ones' height and width, so each lateral upsamples its output (nearest neighbour: each Fast
position is copied to the 2 x 2 Slow positions it covers) before fusing. The paper does not say
how it matched the sizes; this is our documented choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .registry import Registry

if TYPE_CHECKING:
    from .config import SlowFastConfig

# ITU-R BT.601 luma. The weights sum to 1, so grey-scaling commutes with the per-channel
# normalisation (x - 0.45) / 0.225 that every channel shares.
LUMA = (0.299, 0.587, 0.114)


def same_size(lateral: torch.Tensor, slow: torch.Tensor) -> torch.Tensor:
    """A lateral's output that already has the Slow features' H x W, passed on as it is."""
    if lateral.shape[-2:] != slow.shape[-2:]:
        raise ValueError(f"the lateral connection's output is {tuple(lateral.shape[-2:])} (H, W) "
                         f"but the Slow features are {tuple(slow.shape[-2:])}: give both "
                         f"pathways frames of the same size")
    return lateral


def upsample_to_slow(lateral: torch.Tensor, slow: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour upsampling of a lateral's output to the Slow features' H x W."""
    if lateral.shape[-2:] == slow.shape[-2:]:
        return lateral
    size = (lateral.shape[2], *slow.shape[-2:])
    return F.interpolate(lateral, size=size, mode="nearest")  # (B, C_lateral, T, H, W)


class FastInput(nn.Module):
    """The RGB Fast clip as it comes ("rgb"); the subclasses derive a weaker input from it."""

    channels = 3  # channels the Fast stem receives
    checkpoint_layers: dict[str, tuple[str | None, str | None]] = {}  # no weights

    @classmethod
    def build(cls, cfg: SlowFastConfig) -> FastInput:
        """The Fast input of a network of config `cfg`."""
        return cls()

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        return fast  # (B, 3, alpha*T, H, W)

    def describe(self) -> str:
        """What Table 1's "data layer" row adds for the Fast pathway ("" for plain RGB)."""
        return ""

    def lateral_resize(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """How each lateral connection brings its output (B, C, T, h, w) to the Slow H x W."""
        return same_size

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        """The module to run at test time (no weights, nothing to fold)."""
        return self


FAST_INPUTS = Registry("fast_input", FastInput)
FAST_INPUTS.register("rgb", FastInput)


@FAST_INPUTS.register("gray")
class GrayInput(FastInput):
    """Grey-scale frames: one luma channel instead of three."""

    channels = 1

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1, 1), persistent=False)

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        if fast.shape[1] == 1:  # already grey
            return fast
        return (fast * self.luma.to(fast.dtype)).sum(dim=1, keepdim=True)  # (B, 1, T, H, W)

    def describe(self) -> str:
        return ", grey-scale (1 channel)"


@FAST_INPUTS.register("time_diff")
class TimeDifferenceInput(FastInput):
    """Time-difference frames: each frame minus the one before it."""

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        # frame t minus frame t-1; the first frame has no predecessor, so its difference is 0
        previous = torch.cat([fast[:, :, :1], fast[:, :, :-1]], dim=2)
        return fast - previous  # (B, 3, T, H, W)

    def describe(self) -> str:
        return ", time difference"


@FAST_INPUTS.register("half_res")
class HalfResolutionInput(FastInput):
    """Half-resolution frames (2 x 2 average pooling); laterals upsample back to the Slow size."""

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        return F.avg_pool3d(fast, kernel_size=(1, 2, 2))  # (B, 3, T, H/2, W/2)

    def describe(self) -> str:
        return ", 1x2x2 average pool (half resolution)"

    def lateral_resize(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return upsample_to_slow
