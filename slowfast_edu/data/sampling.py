"""Temporal sampling: which frames of a video each pathway sees."""

from __future__ import annotations

import torch


def pack_pathways(frames: torch.Tensor, alpha: int) -> list[torch.Tensor]:
    """Split a Fast clip into `[slow, fast]`: the Slow clip keeps every alpha-th frame.

    `frames` is (C, T, H, W) or (B, C, T, H, W) with T divisible by alpha. As in the reference
    implementations the Slow frames are picked by `linspace(0, T-1, T // alpha)`, so they span
    the whole clip (8 of 32 -> frames 0, 4, 8, 13, 17, 22, 26, 31).
    """
    if frames.dim() not in (4, 5):
        raise ValueError(f"pack_pathways expects (C, T, H, W) or (B, C, T, H, W), "
                         f"got shape {tuple(frames.shape)}")
    time_axis = frames.dim() - 3
    t_fast = frames.shape[time_axis]
    if t_fast % alpha:
        raise ValueError(f"the clip has {t_fast} frames, which is not divisible by "
                         f"alpha={alpha}; sample a multiple of {alpha} frames")
    index = torch.linspace(0, t_fast - 1, t_fast // alpha).long().to(frames.device)
    slow = frames.index_select(time_axis, index)  # (..., C, T/alpha, H, W)
    return [slow, frames]
