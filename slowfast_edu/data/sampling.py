"""Temporal sampling: which frames of a video each pathway sees.

A SlowFast view is a window of `num_frames * sampling_rate` frames at a target frame rate (30 fps):
for 8x8 the Fast pathway takes 32 frames at stride 2 (a 64-frame window, ~2.1 s) and the Slow
pathway T = 32 / alpha of those, spread over the whole window by linspace (`pack_pathways`). A
video at another frame rate covers the same ~2.1 s, with its own number of source frames. Training
takes one window at a random place; testing takes K windows spread uniformly over the video (10 in
the paper) and averages the scores.
"""

from __future__ import annotations

import torch


def window_length(fps: float, num_frames: int, sampling_rate: int, target_fps: float = 30.0
                  ) -> float:
    """Source frames one view spans: num_frames * sampling_rate frames at target_fps, at `fps`."""
    return num_frames * sampling_rate / target_fps * fps


def window_start(num_video_frames: int, window: float, clip_index: int = -1, num_clips: int = 1,
                 generator: torch.Generator | None = None) -> float:
    """Where a window starts: random for clip_index=-1 (training), else the clip_index-th of
    num_clips uniform positions, start = (video - window) * i / K (as PySlowFast tests)."""
    delta = max(num_video_frames - window, 0.0)
    if clip_index == -1:
        return float(torch.rand((), generator=generator)) * delta
    if not 0 <= clip_index < num_clips:
        raise ValueError(f"clip_index must be in [0, {num_clips}) or -1, got {clip_index}")
    return delta * clip_index / num_clips


def sample_indices(num_video_frames: int, fps: float, num_frames: int, sampling_rate: int,
                   target_fps: float = 30.0, clip_index: int = -1, num_clips: int = 1,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """`num_frames` source frame indices of one view, picked by linspace over its window.

    Clips shorter than the window are padded by repeating their last frame (the indices are
    clamped to the video), as the reference implementations do.
    """
    if num_video_frames < 1:
        raise ValueError("the video has no frames")
    window = window_length(fps, num_frames, sampling_rate, target_fps)
    start = window_start(num_video_frames, window, clip_index, num_clips, generator)
    index = torch.linspace(start, start + window - 1, num_frames)
    return index.clamp(0, num_video_frames - 1).long()


def pack_pathways(frames: torch.Tensor, alpha: int) -> list[torch.Tensor]:
    """Split a Fast clip into `[slow, fast]`: the Slow clip keeps T / alpha of its T frames.

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
