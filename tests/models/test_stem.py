"""The stem's CPU training path (the clip's kt frames stacked on the channel axis) computes the
plain convolution: the same outputs and the same weight gradients, in either memory format."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.models.stem import Stem, frames_as_channels


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("in_channels, temporal_kernel, frames", [(3, 5, 8), (1, 5, 4), (3, 3, 6)])
def test_frames_as_channels_is_the_plain_convolution(channels_last, in_channels,
                                                     temporal_kernel, frames):
    torch.manual_seed(0)
    stem = Stem(in_channels, 8, temporal_kernel).train()
    x = torch.randn(2, in_channels, frames, 20, 28)
    if channels_last:
        stem = stem.to(memory_format=torch.channels_last_3d)
        x = x.contiguous(memory_format=torch.channels_last_3d)
    plain = stem.conv(x)
    plain.square().sum().backward()
    expected_grad, stem.conv.weight.grad = stem.conv.weight.grad.clone(), None
    stacked = frames_as_channels(stem.conv, x)
    stacked.square().sum().backward()
    assert stacked.shape == plain.shape == (2, 8, frames, 10, 14)
    torch.testing.assert_close(stacked, plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(stem.conv.weight.grad, expected_grad, rtol=1e-4, atol=1e-4)
    if channels_last or in_channels > 1:  # one channel is both formats at once
        assert stacked.is_contiguous(memory_format=torch.channels_last_3d) == channels_last


def test_the_stem_stacks_frames_only_to_train_on_cpu():
    torch.manual_seed(0)
    stem = Stem(3, 8, 5).eval()
    x = torch.randn(1, 3, 4, 16, 16)
    with torch.no_grad():  # inference: the plain convolution, bit for bit
        assert torch.equal(stem(x), stem.pool(stem.relu(stem.bn(stem.conv(x)))))
    torch.testing.assert_close(stem(x), stem.pool(stem.relu(stem.bn(stem.conv(x)))))
