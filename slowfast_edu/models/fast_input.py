"""What the Fast pathway sees (Sec. 4.2, "weaker spatial inputs to the Fast pathway").

The paper shows the Fast pathway does not need full-quality frames, because its job is motion:
it tries grey-scale frames, time-difference frames and half-resolution frames. The model takes the
same `[slow, fast]` RGB clips in every case and derives the weaker input itself, so the data
pipeline never changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# ITU-R BT.601 luma. The weights sum to 1, so grey-scaling commutes with the per-channel
# normalisation (x - 0.45) / 0.225 that every channel shares.
LUMA = (0.299, 0.587, 0.114)


class FastInput(nn.Module):
    """Turn the RGB Fast clip into `mode`: "rgb", "gray", "time_diff" or "half_res"."""

    def __init__(self, mode: str = "rgb") -> None:
        super().__init__()
        self.mode = mode
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1, 1), persistent=False)

    @property
    def channels(self) -> int:
        """Channels the Fast stem receives."""
        return 1 if self.mode == "gray" else 3

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        if self.mode == "gray":
            if fast.shape[1] == 1:  # already grey
                return fast
            return (fast * self.luma.to(fast.dtype)).sum(dim=1, keepdim=True)  # (B, 1, T, H, W)
        if self.mode == "time_diff":
            # frame t minus frame t-1; the first frame has no predecessor, so its difference is 0
            previous = torch.cat([fast[:, :, :1], fast[:, :, :-1]], dim=2)
            return fast - previous  # (B, 3, T, H, W)
        if self.mode == "half_res":
            return F.avg_pool3d(fast, kernel_size=(1, 2, 2))  # (B, 3, T, H/2, W/2)
        return fast

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
