"""Same weights, same logits as PyTorchVideo's reference models (the test-only reference).

PyTorchVideo pools with a fixed window sized for 224 px; at other sizes we give its pooling the
window that covers the whole map, which is what our global average pooling does.
The R101 comparisons use 2 + 8 frames (not 8 + 32 / 16 + 64) to keep the suite fast: every
layer, kernel and stride is exercised all the same. SLOWFAST_EDU_FULL_TESTS=1 uses full clips.
"""

from __future__ import annotations

import os

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models.convert import convert_state_dict

from ..conftest import randomize_bn

hub = pytest.importorskip("pytorchvideo.models.hub", reason="PyTorchVideo is the test reference")
FULL = os.environ.get("SLOWFAST_EDU_FULL_TESTS") == "1"

CASES = {  # ours: (reference builder, slow frames used in the test)
    "slowfast_8x8_r50": (hub.slowfast_r50, 8),
    "slow_8x8_r50": (hub.slow_r50, 8),
    "slowfast_8x8_r101_101_101": (hub.slowfast_r101, 8 if FULL else 2),
    "slowfast_16x8_r101": (hub.slowfast_16x8_r101_50_50, 16 if FULL else 2),
}


def _set_reference_pool(ref: torch.nn.Module, shapes: list[tuple[int, ...]]) -> None:
    """Make the reference's fixed average-pool windows cover the whole final feature maps."""
    pools = [m for m in ref.modules() if isinstance(m, torch.nn.AvgPool3d)]
    assert len(pools) == len(shapes)
    for pool, shape in zip(pools, shapes):
        pool.kernel_size = shape


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    name = request.param
    builder, frames = CASES[name]
    torch.manual_seed(0)
    ref = randomize_bn(builder(pretrained=False)).eval()
    ours = se.build_model(name).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), source="pytorchvideo"))
    return name, ref, ours, frames


@pytest.mark.parametrize("size", [224, 256])
def test_same_logits_as_pytorchvideo(pair, size):
    name, ref, ours, frames = pair
    cfg = ours.cfg
    torch.manual_seed(1)
    if cfg.arch == "slowfast":
        inputs = se.pack_pathways(torch.randn(1, 3, frames * cfg.alpha, size, size), cfg.alpha)
    else:
        inputs = [torch.randn(1, 3, frames, size, size)]
    _set_reference_pool(ref, [(x.shape[2], size // 32, size // 32) for x in inputs])
    with torch.no_grad():
        expected = ref([x.clone() for x in inputs] if len(inputs) > 1 else inputs[0].clone())
        given = list(inputs)
        logits = ours(given)
    assert given[0] is inputs[0] and given[-1] is inputs[-1]  # the list is left alone
    assert logits.shape == (1, 400)
    assert logits.abs().max() > 1  # BN statistics are non-trivial: real signal, not ~0
    assert (logits - expected).abs().max().item() <= 1e-5


def test_pyslowfast_layout_round_trips(pair):
    name, ref, ours, _ = pair
    sd = ours.state_dict()
    pyslowfast = convert_state_dict(sd, source="slowfast_edu", target="pyslowfast")
    assert "head.projection.weight" in pyslowfast
    assert any(k.startswith("s1.pathway0_stem.conv") for k in pyslowfast)
    back = convert_state_dict(pyslowfast, source="pyslowfast")
    assert list(back) == list(sd)
    assert all(back[k] is sd[k] for k in sd)
    # and to PyTorchVideo's layout: exactly the reference's keys
    assert set(convert_state_dict(sd, "slowfast_edu", "pytorchvideo")) == set(ref.state_dict())


def test_pyslowfast_names_are_the_published_ones():
    sd = se.build_model("slowfast_16x8_r101_nl").state_dict()
    names = set(convert_state_dict(sd, "slowfast_edu", "pyslowfast"))
    for key in ["s1.pathway0_stem.conv.weight", "s1.pathway1_stem.bn.running_var",
                "s1_fuse.conv_f2s.weight", "s4_fuse.bn.weight",
                "s2.pathway0_res0.branch1.weight", "s2.pathway0_res0.branch1_bn.bias",
                "s3.pathway1_res2.branch2.a.weight", "s5.pathway1_res2.branch2.c_bn.weight",
                "s4.pathway0_nonlocal6.conv_theta.weight", "s4.pathway0_nonlocal20.bn.bias",
                "head.projection.weight"]:
        assert key in names
    back = convert_state_dict({k: v for k, v in convert_state_dict(
        sd, "slowfast_edu", "pyslowfast").items()}, "auto")
    assert set(back) == set(sd)


def test_unknown_keys_are_named():
    sd = se.build_model("slowfast_tiny").state_dict()
    sd["extra.thing.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="extra.thing.weight"):
        convert_state_dict(sd, "slowfast_edu", "pyslowfast")
