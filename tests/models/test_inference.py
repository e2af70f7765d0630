"""optimize_for_inference: the same logits in eval mode, no BN left, the original untouched."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from slowfast_edu.models import build_model, example_inputs
from slowfast_edu.models.inference import FusedConv3d, fold_bn, optimize_for_inference

from ..conftest import randomize_bn

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone

VARIANTS = {
    "slowfast_tiny": ("slowfast_tiny", {}),
    "slow_tiny": ("slow_tiny", {}),
    "fast_tiny": ("fast_tiny", {}),
    "slowfast_tiny_nonlocal": ("slowfast_tiny", {"nonlocal_blocks": ((), (), (0,), ())}),
    "slowfast_tiny_t_sample": ("slowfast_tiny", {"fusion": "time_strided_sample"}),
}
TOLERANCE = 1e-4
SIZE = 32  # frames of 32 x 32: each stage still has a spatial extent, and the tests stay fast


def _model(variant: str) -> nn.Module:
    name, overrides = VARIANTS[variant]
    torch.manual_seed(0)
    model = build_model(name, num_classes=10, **overrides)
    randomize_bn(model)
    return model


def _logits(model: nn.Module, inputs: list[torch.Tensor]) -> torch.Tensor:
    with torch.inference_mode():
        return model(list(inputs))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_same_logits_no_batchnorm_original_untouched(variant):
    model = _model(variant)  # left in training mode: optimizing must not change that
    before = {k: v.clone() for k, v in model.state_dict().items()}
    inputs = example_inputs(model.cfg, size=SIZE, batch_size=2)

    fast = optimize_for_inference(model)

    assert model.training and not fast.training
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)
    assert any(isinstance(m, nn.BatchNorm3d) for m in model.modules())
    assert not any(isinstance(m, nn.BatchNorm3d) for m in fast.modules())
    assert not any(p.requires_grad for p in fast.parameters())
    assert all(p.requires_grad for p in model.parameters())

    expected = _logits(model.eval(), inputs)
    assert expected.shape == (2, 10)
    assert expected.std() > 1e-3  # the randomised BNs make a non-trivial network
    assert (_logits(fast, inputs) - expected).abs().max().item() <= TOLERANCE
    assert all(i.is_contiguous() for i in inputs)  # the caller's clips are left as they were


@pytest.mark.parametrize("options", [dict(channels_last=False, fuse_relu=False),
                                     dict(fuse_relu=False), dict(channels_last=False)])
def test_each_step_alone_keeps_the_logits(options):
    model = _model("slowfast_tiny_nonlocal").eval()
    inputs = example_inputs(model.cfg, size=SIZE)
    fast = optimize_for_inference(model, **options)
    assert not any(isinstance(m, nn.BatchNorm3d) for m in fast.modules())
    assert (_logits(fast, inputs) - _logits(model, inputs)).abs().max().item() <= TOLERANCE


def test_fused_convs_plain_path_matches_onednn(monkeypatch):
    model = _model("slowfast_tiny").eval()
    inputs = example_inputs(model.cfg, size=SIZE)
    fast = optimize_for_inference(model)
    assert sum(isinstance(m, FusedConv3d) for m in fast.modules()) > 0
    onednn = _logits(fast, inputs)
    monkeypatch.setattr(FusedConv3d, "use_onednn", False)  # the path other devices take
    assert (_logits(fast, inputs) - onednn).abs().max().item() <= TOLERANCE
    # with gradients enabled the plain path runs too (the fused op has no backward)
    with torch.no_grad():
        assert (fast(list(inputs)) - onednn).abs().max().item() <= TOLERANCE


def test_channels_last_weights():
    fast = optimize_for_inference(_model("slowfast_tiny"))
    convs = [m for m in fast.modules() if isinstance(m, nn.Conv3d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last_3d)
                         for c in convs)


def test_fold_bn_algebra():
    torch.manual_seed(0)
    conv = nn.Conv3d(4, 6, kernel_size=(3, 1, 1), padding=(1, 0, 0), bias=True)
    bn = nn.BatchNorm3d(6, eps=1e-5)
    randomize_bn(bn)
    bn.eval()
    folded = fold_bn(conv, bn)
    x = torch.randn(2, 4, 5, 7, 7)
    with torch.no_grad():
        assert torch.allclose(folded(x), bn(conv(x)), atol=1e-5)
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    assert torch.allclose(folded.weight, conv.weight * scale.view(-1, 1, 1, 1, 1))
    assert torch.allclose(folded.bias, bn.bias + (conv.bias - bn.running_mean) * scale)
    assert folded is not conv and folded.bias is not None


def test_fold_bn_without_conv_bias():
    conv = nn.Conv3d(3, 5, kernel_size=1, bias=False)
    bn = nn.BatchNorm3d(5)
    randomize_bn(bn, generator_seed=1)
    bn.eval()
    folded = fold_bn(conv, bn)
    assert conv.bias is None  # the original conv is left as it was
    x = torch.randn(1, 3, 2, 4, 4)
    with torch.no_grad():
        assert torch.allclose(folded(x), bn(conv(x)), atol=1e-5)



def test_fold_bn_needs_running_statistics():
    bn = nn.BatchNorm3d(5, track_running_stats=False)
    with pytest.raises(ValueError, match="running statistics"):
        fold_bn(nn.Conv3d(3, 5, kernel_size=1), bn)
