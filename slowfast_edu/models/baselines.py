"""The networks SlowFast is compared with, built from the same blocks: C2D, I3D and two-stream.

Each is a `SlowFastConfig` (presets.py names them), so `describe`, `count_flops`,
`optimize_for_inference` and `convert_state_dict` work on them as on SlowFast.

- **C2D** (the 2D baseline of Wang et al., "Non-local Neural Networks", CVPR 2018): one ResNet-50
  pathway as wide as the Slow pathway, whose convolutions are all 2D (every temporal kernel 1,
  stem 1x7x7). Each frame is seen on its own; time enters only by pooling: a max pool over 2
  frames after res2 (`res2_temporal_pool=2`, "pool2") and the head's average. Pooling does not
  care about order: a clip played backwards gives the same score, so C2D cannot tell a shape
  moving left from the same shape moving right.
- **I3D** (Carreira and Zisserman, CVPR 2017, in the ResNet form of Wang et al.): the same network
  with some 2D kernels "inflated" to 3D: a 5x7x7 stem, 3x1x1 on conv "a" of every res2 block and
  of every other block of res3, res4 (3, 1, 3, ...) and res5 (1, 3, 1). A 2D kernel copied over
  kT frames and divided by kT (`inflate_kernel`) answers a still clip as the 2D kernel does, which
  is how I3D starts from 2D weights (`inflate_from`). It sees motion, at full width on every frame.
  `c2d_r50` and `i3d_r50` are PyTorchVideo's hub models of those names (8 frames at stride 8,
  24,327,632 and 28,043,472 parameters; tests/models/test_baselines.py checks the logits).
- **Two-stream** (Simonyan and Zisserman, NIPS 2014): an RGB stream for appearance beside a
  motion stream fed optical flow, fused late, at the class scores. Computing optical flow for
  every clip is out of reach on a laptop CPU, so `two_stream_tiny` gives its motion stream
  time-difference frames (each frame minus the one before: one of the weaker inputs the paper
  gives the Fast pathway, Sec. 4.2), and makes it as thin and as fast as the Fast pathway; the RGB
  stream is a 2D network on the Slow pathway's frames (C2D-like, no temporal kernels). The two
  meet only at the head (`fusion="none"`): a linear layer on the concatenated features is the sum
  of one linear classifier per stream, i.e. late fusion of their scores, learned jointly. What
  SlowFast adds to it is what the lesson measures: lateral connections all the way up, raw
  frames for the Fast pathway, and temporal kernels in the Slow pathway's res4 and res5.

The teaching sizes (`c2d_tiny`, `i3d_tiny`, `two_stream_tiny`) have `slowfast_tiny`'s blocks and
see the same 16-frame window: the 2D and 3D baselines 8 of its frames (every other one: alpha=2
of the 16, tau=2), the two-stream network 4 (RGB) and all 16 (differences), as SlowFast does.
"""

from __future__ import annotations

import torch
from torch import nn

C2D_KERNELS = (1, 1, 1, 1)  # conv "a" of res2..res5: all 2D
I3D_KERNELS = (3, (3, 1), (3, 1), (1, 3))  # PyTorchVideo's i3d_r50 and PySlowFast's "i3d"

# what makes each baseline, as `SlowFastConfig` fields over a SlowFast preset (presets.py): the
# R50s over SlowFast 8x8's 8 frames at stride 8, the teaching ones over slowfast_tiny's
C2D = dict(arch="slow", slow_stem_kernel=1, slow_temporal_kernels=C2D_KERNELS,
           res2_temporal_pool=2)
I3D = dict(C2D, slow_stem_kernel=5, slow_temporal_kernels=I3D_KERNELS)
TWO_STREAM = dict(fusion="none", fast_input="time_diff", slow_temporal_kernels=C2D_KERNELS)
EVERY_OTHER_FRAME = dict(alpha=2, slow_frames=8, tau=2)  # 8 of a 16-frame window: the tiny 2D/3D


def inflate_kernel(weight: torch.Tensor, temporal_size: int) -> torch.Tensor:
    """A 2D kernel (O, I, kH, kW) or (O, I, 1, kH, kW) as a 3D one (O, I, kT, kH, kW).

    Copied over kT frames and divided by kT: on a still clip the 3D convolution then gives the
    2D one's output, except on the first and last kT // 2 frames, where the zero padding in time
    takes part (they see fewer real frames).
    """
    if weight.dim() == 5:
        if weight.shape[2] != 1:
            raise ValueError(f"inflate_kernel takes a 2D kernel; this one already spans "
                             f"{weight.shape[2]} frames")
        weight = weight[:, :, 0]
    if weight.dim() != 4:
        raise ValueError(f"a 2D conv kernel is (O, I, kH, kW), got {tuple(weight.shape)}")
    inflated = weight.unsqueeze(2).repeat(1, 1, temporal_size, 1, 1)  # (O, I, kT, kH, kW)
    return inflated / temporal_size


def inflate_from(model_2d: nn.Module, model_3d: nn.Module) -> nn.Module:
    """Load `model_2d`'s weights (a C2D) into `model_3d` (an I3D of the same widths), inflating
    each kernel whose temporal size grew; returns `model_3d`."""
    source, target = model_2d.state_dict(), model_3d.state_dict()
    if set(source) != set(target):
        raise ValueError(f"the two networks have different layers: "
                         f"{sorted(set(source) ^ set(target))[:5]}")
    inflated = {}
    for key, value in source.items():
        want = target[key].shape
        if value.shape == want:
            inflated[key] = value
        elif value.dim() == 5 and value.shape[2] == 1 and value.shape[3:] == want[3:]:
            inflated[key] = inflate_kernel(value, want[2])
        else:
            raise ValueError(f"{key}: {tuple(value.shape)} cannot be inflated to {tuple(want)}")
    model_3d.load_state_dict(inflated)
    return model_3d
