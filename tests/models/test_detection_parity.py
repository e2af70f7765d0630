"""The AVA detectors against PyTorchVideo's (the test-only reference): parameters, outputs, layouts.

PyTorchVideo 0.1.5 builds `slowfast_r50_detection` (SlowFast 8x8 R50) and `slow_r50_detection`
(Slow-only 4x16 R50); their checkpoints are the AVA zoo's `SLOWFAST_8x8_R50_DETECTION.pyth` and
`SLOW_4x16_R50_DETECTION.pyth`. The reference averages over time with fixed windows (8 and 32
frames, or 4): to keep the suite fast the clips here have 2 + 8 frames (2 for Slow-only) and the
reference's windows are set to match, which is what our mean over time does at any length (every
layer, kernel, dilation and stride is exercised all the same). SLOWFAST_EDU_FULL_TESTS=1 uses the
full 8 + 32 and 4 frames.
"""

from __future__ import annotations

import os

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models import count_params
from slowfast_edu.models.convert import convert_state_dict, detect_format

from ..conftest import randomize_bn

hub = pytest.importorskip("pytorchvideo.models.hub", reason="PyTorchVideo is the test reference")
FULL = os.environ.get("SLOWFAST_EDU_FULL_TESTS") == "1"

CASES = {  # ours: (reference builder, Slow frames in the test, parameters measured with it)
    "slowfast_8x8_r50_detection": (hub.slowfast_r50_detection, 8 if FULL else 2, 33_828_888),
    "slow_4x16_r50_detection": (hub.slow_r50_detection, 4 if FULL else 2, 31_798_416),
}
SIZES = [(96, 96), (64, 112)]  # (H, W): a square and a wide frame, as AVA's are (small: fast)


def _boxes(h: int, w: int) -> torch.Tensor:
    """Clip 0: one box; clip 1: the whole frame and two boxes touching the borders."""
    return torch.tensor([[0, 30.5, 20.0, 0.55 * w, 0.9 * h],
                         [1, 0.0, 0.0, w, h],
                         [1, 0.0, 0.2 * h, 50.3, h],
                         [1, w - 20.0, 3.0, w, 40.0]])


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    name = request.param
    builder, frames, _ = CASES[name]
    torch.manual_seed(0)
    ref = randomize_bn(builder(pretrained=False)).eval()
    with torch.device("meta"):  # no initialisation: every tensor comes from the reference
        ours = se.build_model(name).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), source="pytorchvideo"), assign=True)
    # the reference's temporal averaging windows, for the number of frames used here
    pools = [m for m in ref.modules() if isinstance(m, torch.nn.AvgPool3d)]
    fast = [frames * ours.cfg.alpha] if ours.cfg.arch == "slowfast" else []
    for pool, t in zip(pools, [frames, *fast], strict=True):
        pool.kernel_size = (t, 1, 1)
    return name, ref, ours, frames


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_same_scores_as_pytorchvideo(pair, size):
    name, ref, ours, frames = pair
    cfg, (h, w) = ours.cfg, size
    torch.manual_seed(1)
    if cfg.arch == "slowfast":
        inputs = se.pack_pathways(torch.randn(2, 3, frames * cfg.alpha, h, w), cfg.alpha)
    else:
        inputs = [torch.randn(2, 3, frames, h, w)]
    boxes = _boxes(h, w)
    captured = {}  # the reference's logits, before the sigmoid it applies in its head
    hook = ref.detection_head.proj.register_forward_hook(
        lambda module, args, out: captured.update(logits=out.reshape(len(boxes), -1)))
    try:
        with torch.no_grad():
            expected = ref([x.clone() for x in inputs] if len(inputs) > 1 else inputs[0].clone(),
                           boxes.clone())
            given = list(inputs)
            logits = ours(given, boxes)
    finally:
        hook.remove()
    assert given[0] is inputs[0] and given[-1] is inputs[-1]  # the list is left alone
    assert logits.shape == expected.shape == (4, 80)  # one row of scores per box
    assert logits.abs().max() > 1  # BN statistics are non-trivial: real signal
    assert (logits - captured["logits"]).abs().max().item() <= 1e-5
    # the reference outputs probabilities (its head ends in a sigmoid, in eval and train mode)
    assert (ours.head.probabilities(logits) - expected).abs().max().item() <= 1e-5
    assert torch.equal(expected, captured["logits"].sigmoid())


def test_parameters_and_layout_are_the_references(pair):
    name, ref, ours, _ = pair
    assert count_params(ours) == count_params(ref) == CASES[name][2]
    sd = ours.state_dict()
    theirs = convert_state_dict(sd, "slowfast_edu", "pytorchvideo", head="detection")
    assert set(theirs) == set(ref.state_dict())  # model.blocks..., detection_head.proj.*
    assert detect_format(ref.state_dict()) == "pytorchvideo"
    back = convert_state_dict(theirs, "auto")
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)


def test_the_pyslowfast_ava_layout_round_trips(pair):
    name, _, ours, _ = pair
    sd = ours.state_dict()
    pyslowfast = convert_state_dict(sd, "slowfast_edu", "pyslowfast", head="detection")
    # PySlowFast's AVA models keep the RoI head's linear layer at head.projection, its res5
    # (stride 1, dilation 2) under the same names as the classification network's
    assert pyslowfast["head.projection.weight"].shape == (80, sd["head.proj.weight"].shape[1])
    assert "s5.pathway0_res0.branch2.b.weight" in pyslowfast
    assert ("s5.pathway1_res2.branch2.c_bn.running_var" in pyslowfast) == (
        ours.cfg.arch == "slowfast")
    back = convert_state_dict({"module." + k: v for k, v in pyslowfast.items()}, "auto")
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)
