"""The stem: the first convolution and max pooling of each pathway ("conv1" and "pool1" in Table 1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
        self.stack_frames = True  # train on CPU with `frames_as_channels` (False: the plain conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        training_on_cpu = (x.device.type == "cpu" and torch.is_grad_enabled()
                           and self.conv.weight.requires_grad)
        if training_on_cpu and self.stack_frames and self.conv.kernel_size[0] > 1:
            x = frames_as_channels(self.conv, x)
        else:
            x = self.conv(x)
        x = self.relu(self.bn(x))  # (B, C, T, H/2, W/2)
        return self.pool(x)  # (B, C, T, H/4, W/4); without pool1 (B, C, T, H/2, W/2)


def frames_as_channels(conv: nn.Conv3d, x: torch.Tensor) -> torch.Tensor:
    """`conv(x)` for a stem conv kt x 7 x 7 (temporal stride 1), computed as a 1 x 7 x 7 conv
    over kt x C channels: the kt shifted copies of the clip, stacked on the channel axis.

    The same multiply-adds and the same weights (viewed, not copied: gradients reach
    `conv.weight`), summed in another order (equal to ~1e-6 relative). Why: on CPU, oneDNN's
    weight gradient of a 3D conv with a temporal kernel and 3 input channels is slow; the Fast
    stem's took most of a `slowfast_tiny` training step (benchmarks/cpu_train.py measures it)."""
    kt, pad = conv.kernel_size[0], conv.padding[0]
    frames = x.shape[2] + 2 * pad - kt + 1  # T out (stride 1 in time)
    padded = F.pad(x, (0, 0, 0, 0, pad, pad))  # (B, C, T + 2 pad, H, W)
    # (B, kt C, T, H, W): channel k C + c is channel c of frame t + k of the padded clip
    stacked = torch.cat([padded[:, :, k:k + frames] for k in range(kt)], dim=1)
    if x.is_contiguous(memory_format=torch.channels_last_3d):  # keep the clip's memory format
        stacked = stacked.contiguous(memory_format=torch.channels_last_3d)
    out_c, in_c = conv.weight.shape[:2]
    weight = conv.weight.transpose(1, 2).reshape(out_c, kt * in_c, 1, *conv.kernel_size[1:])
    return F.conv3d(stacked, weight, None, (1, *conv.stride[1:]), (0, *conv.padding[1:]))
