"""Spatial transforms for video clips, on torchvision.transforms.v2 video tensors.

The recipe of the paper (and of PySlowFast): for training, scale the short side to a random size
in [256, 320], take a random 224 x 224 crop, flip horizontally at random; for testing, scale the
short side to 256 and take 3 crops of 256 x 256 along the long side (left, centre, right). Pixels
are scaled to [0, 1] and normalised with mean 0.45 and std 0.225 on every channel.

Decoded frames arrive as uint8 (T, H, W, 3); the network wants float (3, T, H, W). Resizing and
cropping run on uint8, which is several times faster than on floats; the float conversion and
normalisation come last, on the small crop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


class UniformCrop(v2.Transform):
    """A square crop at one of 3 places along the long side: 0 = left/top, 1 = centre,
    2 = right/bottom (PySlowFast's `uniform_crop`, the 3 spatial views of testing)."""

    def __init__(self, size: int, spatial_index: int = 1) -> None:
        super().__init__()
        if spatial_index not in (0, 1, 2):
            raise ValueError(f"spatial_index must be 0, 1 or 2, got {spatial_index}")
        self.size, self.spatial_index = size, spatial_index

    def transform(self, inpt, params):
        h, w = inpt.shape[-2:]
        top, left = (h - self.size) // 2, (w - self.size) // 2  # centre
        if self.spatial_index == 0:  # left (or top, for portrait frames)
            top, left = (0, left) if h > w else (top, 0)
        elif self.spatial_index == 2:  # right (or bottom)
            top, left = (h - self.size, left) if h > w else (top, w - self.size)
        return F.crop(inpt, top, left, self.size, self.size)


def _finish(mean: tuple[float, ...], std: tuple[float, ...]) -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]


def train_transform(crop_size: int = 224, min_short_side: int = 256, max_short_side: int = 320,
                    flip: bool = True, mean: tuple[float, ...] = MEAN,
                    std: tuple[float, ...] = STD) -> Callable[[torch.Tensor], torch.Tensor]:
    """Short-side jitter, random crop, random flip, normalise: uint8 (T,H,W,3) -> (3,T,h,w)."""
    steps = [v2.RandomShortestSize(list(range(min_short_side, max_short_side + 1))),
             v2.RandomCrop(crop_size)]
    if flip:
        steps.append(v2.RandomHorizontalFlip())
    return VideoTransform(v2.Compose(steps + _finish(mean, std)))


def test_transform(short_side: int = 256, crop_size: int = 256, spatial_index: int = 1,
                   mean: tuple[float, ...] = MEAN, std: tuple[float, ...] = STD
                   ) -> Callable[[torch.Tensor], torch.Tensor]:
    """Short side to `short_side`, then crop `spatial_index` of 3 (0 left, 1 centre, 2 right)."""
    steps = [v2.Resize(short_side), UniformCrop(crop_size, spatial_index)]
    return VideoTransform(v2.Compose(steps + _finish(mean, std)))


class VideoTransform:
    """Wrap v2 transforms: decoded uint8 (T, H, W, 3) in, normalised float (3, T, h, w) out."""

    def __init__(self, transforms: v2.Transform) -> None:
        self.transforms = transforms

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.dim() != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected decoded frames (T, H, W, 3), got {tuple(frames.shape)}")
        video = tv_tensors.Video(frames.permute(0, 3, 1, 2))  # (T, 3, H, W)
        out = self.transforms(video)  # (T, 3, h, w) float
        return out.as_subclass(torch.Tensor).permute(1, 0, 2, 3).contiguous()  # (3, T, h, w)

    def __repr__(self) -> str:
        return f"VideoTransform({self.transforms})"


def denormalize(clip: torch.Tensor, mean: tuple[float, ...] = MEAN,
                std: tuple[float, ...] = STD) -> torch.Tensor:
    """Undo the normalisation: (3, T, H, W) float -> (T, H, W, 3) uint8, for showing frames."""
    m = torch.tensor(mean, device=clip.device).view(3, 1, 1, 1)
    s = torch.tensor(std, device=clip.device).view(3, 1, 1, 1)
    pixels = (clip * s + m).clamp(0, 1).mul(255).round().to(torch.uint8)
    return pixels.permute(1, 2, 3, 0)
