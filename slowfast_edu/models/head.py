"""The head: global average pooling of each pathway, concatenation, dropout, a linear classifier."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Head(nn.Module):
    """Pool each pathway over all of T x H x W, concatenate (2048 + 256 = 2304 for R50), classify.

    The reference implementations pool with a fixed 7 x 7 window sized for 224-pixel crops; the
    global mean here gives the same result at 224 and adapts to any clip length and frame size.
    """

    def __init__(self, in_channels: list[int], num_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(sum(in_channels), num_classes)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        # a pooling window as large as the whole map: global, for any T, H, W (and summed in the
        # same order as the references' fixed 7 x 7 window at 224, so logits agree bit for bit)
        pooled = [F.avg_pool3d(f, kernel_size=f.shape[2:]).flatten(1) for f in features]  # (B, C)
        x = torch.cat(pooled, dim=1)  # (B, sum C_p)
        return self.proj(self.dropout(x))  # (B, num_classes)
