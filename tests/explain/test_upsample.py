"""Grad-CAM's upsampling puts each feature cell on the pixel the network centres it on."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from slowfast_edu.explain.gradcam import feature_stride, upsample


def centre_tap(kernel: int, stride: int) -> nn.Conv2d:
    """A conv with padding kernel // 2 that copies the input pixel under its centre."""
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=kernel // 2, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, kernel // 2, kernel // 2] = 1
    return conv


def test_cells_land_on_the_pixels_the_network_centres_them_on():
    # the default model's spatial path at 64 px: conv1 7x7 /2, res3 3x3 /2, res4 3x3 /2 -> 8 x 8
    stack = nn.Sequential(centre_tap(7, 2), centre_tap(3, 2), centre_tap(3, 2))
    ramp = torch.arange(64.0).view(1, 1, 64).expand(1, 64, 64)[None]  # value = x, (1, 1, 64, 64)
    with torch.no_grad():
        cells = stack(ramp)  # (1, 1, 8, 8)
    assert cells[0, 0, 0].tolist() == [0, 8, 16, 24, 32, 40, 48, 56]  # cell j sits on pixel 8 j
    back = upsample(cells[:, :, None], (1, 64, 64))[:, :, 0]  # (1, 1, 64, 64)
    assert torch.equal(back[..., :57], ramp[..., :57])  # linear between the cells: exact
    assert torch.equal(back[..., 57:], torch.full_like(back[..., 57:], 56.0))  # past the last
    resized = F.interpolate(cells, size=(64, 64), mode="bilinear", align_corners=False)
    assert (resized - ramp)[..., 4:52].mean() == pytest.approx(-3.5)  # as images: 3.5 px off


def test_one_hot_cells_peak_on_their_pixel_in_time_and_space():
    cam = torch.zeros(1, 1, 4, 8, 8)
    cam[0, 0, 2, 3, 5] = 1
    up = upsample(cam, (4, 64, 64))  # time keeps its 4 steps, space has stride 8
    assert up.shape == (1, 1, 4, 64, 64)
    assert (up == 1).nonzero().tolist() == [[0, 0, 2, 24, 40]]
    assert torch.equal(upsample(torch.ones(2, 1, 3, 2, 2), (3, 48, 48)),
                       torch.ones(2, 1, 3, 48, 48))


def test_feature_strides():
    assert feature_stride(8, 64) == 8 and feature_stride(4, 64) == 16  # no pool1 / pool1
    assert feature_stride(3, 48) == 16 and feature_stride(2, 64) == 32
    assert feature_stride(3, 45) == 16  # 45 -> 23 -> 12 -> 6 -> 3: halves rounding up
    assert feature_stride(16, 16) == 1 and feature_stride(5, 13) is None


def test_sizes_without_a_stride_are_resized_as_images():
    cam = torch.rand(2, 1, 3, 5, 5)
    expected = F.interpolate(cam, size=(3, 13, 13), mode="trilinear", align_corners=False)
    assert torch.allclose(upsample(cam, (3, 13, 13)), expected, atol=1e-6)
