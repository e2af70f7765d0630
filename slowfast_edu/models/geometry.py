"""The clip a network wants, derived from its config: how many frames, how far apart, how large.

A SlowFast "T x tau" model samples one window of the video at 30 fps: the Fast pathway takes
alpha * T frames every tau / alpha frames, and the Slow pathway every alpha-th of those (8x8 R50:
32 frames at stride 2, a 64-frame window, and 8 Slow frames). Slow-only and Fast-only models are
fed the same window, so that the three see the same stretch of time. Spatially the paper trains on
random 224 x 224 crops and tests on 256 x 256 crops after resizing the short side to 256 (its
GFLOPs are per 256-pixel view). The teaching presets are trained and tested at their own
`crop_size` (64 pixels): their clips are that small to begin with.

Everything that reads clips for a model (the trainer, `predict`, the explainers, the app) asks
`clip_geometry(cfg)` rather than working the numbers out again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import SlowFastConfig

TARGET_FPS = 30.0  # the frame rate tau is counted at (Kinetics videos are mostly 30 fps)
PAPER_CROP = 224  # the paper's training crop; at or above it, the paper's test view is used
PAPER_TEST_SIDE = 256  # the paper's test short side and test crop


@dataclass(frozen=True)
class ClipGeometry:
    """One view of a video, in the paper's terms, as a model of `cfg` is trained and tested."""

    slow_frames: int  # T
    alpha: int  # the Fast pathway sees alpha * T frames
    tau: int  # the Slow pathway's stride, in frames at `target_fps`
    crop_size: int  # training crop, pixels
    test_short_side: int  # testing: the short side is resized to this ...
    test_crop_size: int  # ... then crops of this size are taken
    target_fps: float = TARGET_FPS

    @property
    def num_frames(self) -> int:
        """Frames sampled from the video per view: the Fast pathway's alpha * T."""
        return self.alpha * self.slow_frames

    @property
    def sampling_rate(self) -> int:
        """Stride of the sampled frames at `target_fps`: tau / alpha (at least 1)."""
        return max(1, self.tau // self.alpha)

    @property
    def seconds(self) -> float:
        """Length of the window one view spans: T * tau frames at `target_fps`."""
        return self.num_frames * self.sampling_rate / self.target_fps


def clip_geometry(cfg: SlowFastConfig) -> ClipGeometry:
    """The view a model of `cfg` wants (see the module docstring)."""
    paper = cfg.crop_size >= PAPER_CROP
    side = PAPER_TEST_SIDE if paper else cfg.crop_size
    return ClipGeometry(cfg.slow_frames, cfg.alpha, cfg.tau, cfg.crop_size, side, side)
