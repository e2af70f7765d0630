"""Every ablation of the paper (Sec. 4.2, Table 5) as keyword overrides, on SlowFast 4x16 R50.

Shapes are measured with `describe` on the meta device (instant); forward and backward run on
real tensors at a small frame size. SLOW and FAST are Table 1 of the paper; the parameter counts
are PyTorchVideo 0.1.5's (tests/models/reference_numbers.py prints them, see test_presets.py).
"""

from __future__ import annotations

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models import build_network
from slowfast_edu.models.fast_input import FAST_INPUTS
from slowfast_edu.models.fusion import TimeStridedSample, TimeToChannel

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone

BASE = "slowfast_4x16_r50"  # the paper's ablation model: alpha=8, beta=1/8, T=4


def measured(**overrides):
    """{stage: (slow (C, T, H, W), fast (C, T, H, W))} of the 4x16 R50 with overrides at 224."""
    cfg = se.get_config(BASE, **overrides)
    with torch.device("meta"):
        model = build_network(cfg)
        table = se.describe(model, se.example_inputs(cfg, 224, device="meta"))
    return model, {row.stage: (row.slow_out, row.fast_out) for row in table}


def forward_backward(**overrides):
    model = se.build_model(BASE, num_classes=10, **overrides)
    cfg = model.cfg
    inputs = se.example_inputs(cfg, 32, batch_size=2)
    logits = model(inputs)
    assert logits.shape == (2, 10)
    logits.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    return model


# Table 1 (4x16 R50 at 224): (C, T, H, W) after each stage
SLOW = {"conv1": (64, 4, 112, 112), "pool1": (64, 4, 56, 56), "res2": (256, 4, 56, 56),
        "res3": (512, 4, 28, 28), "res4": (1024, 4, 14, 14), "res5": (2048, 4, 7, 7)}
FAST = {"conv1": (8, 32, 112, 112), "pool1": (8, 32, 56, 56), "res2": (32, 32, 56, 56),
        "res3": (64, 32, 28, 28), "res4": (128, 32, 14, 14), "res5": (256, 32, 7, 7)}

# channels of the Slow features after each lateral connection (Slow C + what the lateral adds)
FUSED = {
    "time_strided_conv": [64 + 16, 256 + 64, 512 + 128, 1024 + 256],  # + 2 beta C
    "time_strided_sample": [64 + 8, 256 + 32, 512 + 64, 1024 + 128],  # + beta C
    "time_to_channel_concat": [64 + 64, 256 + 256, 512 + 512, 1024 + 1024],  # + alpha beta C
    "time_to_channel_sum": None,  # alpha beta C = C, added: no lateral rows change the width
    "none": None,
}


@pytest.mark.parametrize("fusion", list(FUSED))
def test_fusion_variants_shapes(fusion):
    model, shapes = measured(fusion=fusion)
    for stage in SLOW:
        assert shapes[stage] == (SLOW[stage], FAST[stage]), stage
    laterals = [shapes[f"lateral {after}"][0] for after in ("pool1", "res2", "res3", "res4")
                if f"lateral {after}" in shapes]
    if FUSED[fusion] is None:
        if fusion == "none":
            assert laterals == []
        else:
            assert [c for c, *_ in laterals] == [64, 256, 512, 1024]
    else:
        assert [c for c, *_ in laterals] == FUSED[fusion]
        assert [tuple(s[1:]) for s in laterals] == [(4, 56, 56), (4, 56, 56), (4, 28, 28),
                                                    (4, 14, 14)]
    # the Slow stage after each lateral takes its output as input
    in_channels = [model.slow.res2[0].conv_a.in_channels, model.slow.res3[0].conv_a.in_channels,
                   model.slow.res4[0].conv_a.in_channels, model.slow.res5[0].conv_a.in_channels]
    assert in_channels == (FUSED[fusion] or [64, 256, 512, 1024])


@pytest.mark.parametrize("fusion", list(FUSED))
def test_fusion_variants_train(fusion):
    forward_backward(fusion=fusion)


def test_no_fusion_pathways_are_independent_until_the_head():
    model = se.build_model(BASE, fusion="none").eval()
    slow, fast = se.example_inputs(model.cfg, 32)
    with torch.no_grad():
        base = model([slow, fast])
        # changing the Fast clip changes only the Fast half of the head's input
        feats = {}
        model.slow.res5.register_forward_hook(lambda m, i, o: feats.__setitem__("slow", o))
        model([slow, fast])
        a = feats["slow"]
        model([slow, torch.randn_like(fast)])
        assert torch.equal(a, feats["slow"])
    assert base.shape == (1, 400)


@pytest.mark.parametrize("beta_inv", [4, 6, 8, 12, 16, 32])
def test_channel_ratio_beta(beta_inv):
    model, shapes = measured(beta_inv=beta_inv)
    expected = {stage: round(c / beta_inv) for stage, (c, *_) in SLOW.items()}  # beta * C
    for stage, c in expected.items():
        assert shapes[stage][1][0] == c, stage
        assert shapes[stage][0] == SLOW[stage]
    # the time-strided conv keeps 2 beta C outputs
    assert model.laterals["pool1"].conv.out_channels == 2 * round(64 / beta_inv)
    assert model.slow.res2[0].conv_a.in_channels == 64 + 2 * round(64 / beta_inv)


@pytest.mark.parametrize("beta_inv", [6, 12])
def test_beta_ratios_pyslowfast_cannot_build_train(beta_inv):
    forward_backward(beta_inv=beta_inv)


@pytest.mark.parametrize("alpha", [2, 4, 8, 16])
def test_speed_ratio_alpha(alpha):
    _, shapes = measured(alpha=alpha)
    assert shapes["res5"] == (SLOW["res5"], (256, 4 * alpha, 7, 7))
    assert shapes["raw clip"] == ((3, 4, 224, 224), (3, 4 * alpha, 224, 224))


def test_alpha_variant_trains():
    forward_backward(alpha=4)


def test_fast_input_gray():
    model, shapes = measured(fast_input="gray")
    assert model.fast.stem.conv.in_channels == 1
    assert shapes["res5"] == (SLOW["res5"], FAST["res5"])
    forward_backward(fast_input="gray")


def test_fast_input_half_resolution():
    model, shapes = measured(fast_input="half_res", beta_inv=4)
    assert shapes["conv1"] == (SLOW["conv1"], (16, 32, 56, 56))
    assert shapes["res5"] == (SLOW["res5"], (512, 32, 4, 4))  # 112 px -> 4 x 4 (ceil of 3.5)
    # laterals bring the half-size Fast features up to the Slow size before concatenating
    assert shapes["lateral res4"][0] == (1024 + 2 * 256, 4, 14, 14)  # 2 beta C, beta = 1/4
    forward_backward(fast_input="half_res", beta_inv=4)


def test_fast_input_time_difference_and_gray_math():
    x = torch.randn(2, 3, 8, 5, 5)
    diff = FAST_INPUTS["time_diff"]()(x)
    assert torch.equal(diff[:, :, 0], torch.zeros_like(diff[:, :, 0]))
    assert torch.allclose(diff[:, :, 1:], x[:, :, 1:] - x[:, :, :-1])
    gray = FAST_INPUTS["gray"]()(x)
    assert gray.shape == (2, 1, 8, 5, 5)
    assert torch.allclose(gray[:, 0], 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])
    half = FAST_INPUTS["half_res"]()(x[..., :4, :4])
    assert torch.allclose(half, x[..., :4, :4].unfold(3, 2, 2).unfold(4, 2, 2).mean((-1, -2)))
    forward_backward(fast_input="time_diff")


def test_time_to_channel_packs_alpha_frames_into_channels():
    alpha, c, t = 4, 3, 2
    fast = torch.arange(c * alpha * t, dtype=torch.float).reshape(1, c, alpha * t, 1, 1)
    packed = TimeToChannel(c, alpha).transform(fast)
    assert packed.shape == (1, alpha * c, t, 1, 1)
    for step in range(t):
        for j in range(alpha):
            for ch in range(c):  # channel j*C + c of Slow step t = channel c of frame alpha*t + j
                assert packed[0, j * c + ch, step, 0, 0] == fast[0, ch, alpha * step + j, 0, 0]


def test_time_strided_sampling_keeps_every_alpha_th_frame():
    fast = torch.arange(16, dtype=torch.float).reshape(1, 1, 16, 1, 1)
    assert TimeStridedSample(1, 4).transform(fast).flatten().tolist() == [0, 4, 8, 12]


def test_time_to_channel_sum_needs_alpha_beta_one():
    with pytest.raises(ValueError, match="alpha\\*beta\\*C.*must be equal"):
        se.build_model(BASE, fusion="time_to_channel_sum", alpha=4)


def test_depth_101_and_fusion_kernel_and_nonlocal_placement():
    model, shapes = measured(depth=101)
    assert len(list(model.slow.res4)) == 23
    # PyTorchVideo's slowfast_r101 (8x8, alpha=4): the laterals' cost does not depend on alpha
    assert se.count_params(model) == 62_826_968
    assert shapes["res5"] == (SLOW["res5"], FAST["res5"])
    model, _ = measured(fusion_kernel=3)
    assert model.laterals["res2"].conv.kernel_size == (3, 1, 1)
    model, shapes = measured(nonlocal_blocks=((), (1,), (0, 5), ()))
    assert [n for n, _ in model.slow.res3.named_children()][:3] == ["0", "1", "nonlocal1"]
    assert shapes["res4"] == (SLOW["res4"], FAST["res4"])
    forward_backward(nonlocal_blocks=((), (), (0,), ()))
    with pytest.raises(ValueError, match="nonlocal_blocks for res4 must index its 6 blocks"):
        se.get_config(BASE, nonlocal_blocks=((), (), (6,), ()))


def test_res5_dilation_doubles_res5_as_the_papers_ava_detector():
    # "the spatial stride of res5 is set to 1 (instead of 2), and we use a dilation of 2"
    model, shapes = measured(res5_dilation=2)
    assert shapes["res5"] == ((2048, 4, 14, 14), (256, 32, 14, 14))
    assert shapes["res4"] == (SLOW["res4"], FAST["res4"])
    assert se.count_params(model) == 34_480_216  # the same weights, spaced out
    for pathway in (model.slow, model.fast):
        first = pathway.res5[0]
        assert first.conv_b.stride == (1, 1, 1) and first.shortcut.conv.stride == (1, 1, 1)
        for block in pathway.res5:
            assert block.conv_b.dilation == (1, 2, 2) and block.conv_b.padding == (0, 2, 2)
    for block in model.slow.res4:
        assert block.conv_b.dilation == (1, 1, 1)
    tiny = se.build_model("slowfast_tiny", res5_dilation=2)
    rows = {r.stage: r for r in se.describe(tiny, se.example_inputs(tiny.cfg, 64))}
    assert rows["res5"].slow.endswith("x1, dilation 2") and rows["res5"].slow_out[2:] == (4, 4)
    forward_backward(res5_dilation=2)
    with pytest.raises(ValueError, match="res5_dilation must be 1 .* or 2"):
        se.get_config(BASE, res5_dilation=4)


def test_without_pool1_every_stage_is_twice_as_fine():
    model, shapes = measured(pool1=False)
    assert shapes["pool1"] == ((64, 4, 112, 112), (8, 32, 112, 112))
    for stage in ("res2", "res3", "res4", "res5"):
        (c, t, h, w), (fc, ft, fh, fw) = SLOW[stage], FAST[stage]
        assert shapes[stage] == ((c, t, 2 * h, 2 * w), (fc, ft, 2 * fh, 2 * fw)), stage
    assert se.count_params(model) == 34_480_216  # max pooling has no weights
    rows = {r.stage: r for r in se.describe(se.build_model("slowfast_tiny", pool1=False),
                                            se.example_inputs(se.get_config("slowfast_tiny"), 32))}
    assert rows["pool1"].slow == rows["pool1"].fast == "none"
    forward_backward(pool1=False)


def test_slow_only_and_fast_only():
    slow, shapes = measured(arch="slow")
    assert shapes["res5"] == ((2048, 4, 7, 7), None)
    assert se.count_params(slow) == 32_454_096
    fast, shapes = measured(arch="fast")
    assert shapes["res5"] == ((256, 32, 7, 7), None) or shapes["res5"] == (None, (256, 32, 7, 7))
    model = se.build_model("fast_tiny")
    clip = torch.randn(1, 3, 16, 32, 32)
    assert torch.equal(model.eval()(clip), model([clip]))  # a tensor or a one-element list


def test_bad_inputs_get_clear_errors():
    model = se.build_model("slowfast_tiny")
    clip = torch.randn(1, 3, 16, 32, 32)
    slow, fast = se.pack_pathways(clip, 4)
    with pytest.raises(ValueError, match="fast clip has 15 frames.*not divisible by alpha=4"):
        model([slow, fast[:, :, :15]])
    with pytest.raises(ValueError, match="not divisible by alpha=4"):
        se.pack_pathways(clip[:, :, :15], 4)
    with pytest.raises(ValueError, match="alpha=4 times as many frames"):
        model([slow[:, :, :2], fast])
    with pytest.raises(ValueError, match="list \\[slow, fast\\]"):
        model(clip)
    with pytest.raises(ValueError, match="\\(B, C, T, H, W\\).*x\\[None\\]"):
        model([slow[0], fast[0]])
    with pytest.raises(ValueError, match="takes one clip"):
        se.build_model("slow_tiny")([slow, fast])
