"""The baselines the paper argues against, from our blocks: C2D and I3D exactly as PyTorchVideo's
hub models (parameters, FLOPs, logits under the same weights, checkpoint layouts), the teaching
sizes and the two-stream network, and kernel inflation.

Where the numbers come from: the parameter counts are REFERENCE.md's ("Baselines", measured with
PyTorchVideo 0.1.5); the GFLOPs were measured the same way (multiply-adds, batch 1, 8 frames,
400 classes, the head's pooling window covering the whole map) and are re-measured on the
reference here, on the "meta" device.
"""

from __future__ import annotations

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models import build_network
from slowfast_edu.models.baselines import inflate_from, inflate_kernel
from slowfast_edu.models.convert import convert_state_dict, detect_format

from ..conftest import randomize_bn

hub = pytest.importorskip("pytorchvideo.models.hub", reason="PyTorchVideo is the test reference")

PARAMS = {"c2d_r50": 24_327_632, "i3d_r50": 28_043_472}  # REFERENCE.md, "Baselines"
GFLOPS = {"c2d_r50": {224: 19.49, 256: 25.46}, "i3d_r50": {224: 28.41, 256: 37.10}}


def _whole_map_pool(ref: torch.nn.Module, size: int) -> None:
    """The reference head's fixed 4x7x7 window made to cover the whole res5 map at `size`."""
    [pool] = [m for m in ref.modules() if isinstance(m, torch.nn.AvgPool3d)]
    pool.kernel_size = (4, size // 32, size // 32)  # 8 frames, halved after res2


def _meta(name: str):
    with torch.device("meta"):
        return getattr(hub, name)().eval(), build_network(se.get_config(name))


@pytest.mark.parametrize("name", PARAMS)
def test_parameters_and_flops_are_pytorchvideos(name):
    ref, ours = _meta(name)
    assert se.count_params(ours) == PARAMS[name] == sum(p.numel() for p in ref.parameters())
    for size, gflops in GFLOPS[name].items():
        clip = torch.empty(1, 3, 8, size, size, device="meta")
        ours_gflops = se.count_flops(ours, [clip])
        assert ours_gflops == pytest.approx(gflops, abs=0.005)
        if size == 224:  # the reference counted again here (256: GFLOPS, measured the same way)
            with torch.no_grad(), torch.utils.flop_counter.FlopCounterMode(display=False) as c:
                ref(clip)
            assert ours_gflops == pytest.approx(c.get_total_flops() / 2e9, rel=1e-6)


@pytest.fixture(scope="module", params=list(PARAMS))
def pair(request):
    name = request.param
    torch.manual_seed(0)
    ref = randomize_bn(getattr(hub, name)(pretrained=False)).eval()
    ours = se.build_model(name).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), source="auto"))  # detects blocks.6
    return name, ref, ours


@pytest.mark.parametrize("size", [224, 256])
def test_same_logits_as_pytorchvideo(pair, size):
    name, ref, ours = pair
    torch.manual_seed(1)
    clip = torch.randn(1, 3, 8, size, size)
    _whole_map_pool(ref, size)
    with torch.inference_mode():
        expected, logits = ref(clip.clone()), ours([clip])
    assert logits.shape == (1, 400) and logits.abs().max() > 1  # non-trivial BN statistics
    assert (logits - expected).abs().max().item() <= 1e-5


def test_checkpoint_layouts_convert_both_ways(pair):
    name, ref, ours = pair
    sd = ours.state_dict()
    theirs = convert_state_dict(sd, "slowfast_edu", "pytorchvideo", res2_pool=True)
    assert set(theirs) == set(ref.state_dict())  # res3 is blocks.3, the head blocks.6
    assert "blocks.3.res_blocks.0.branch1_conv.weight" in theirs and "blocks.6.proj.bias" in theirs
    back = convert_state_dict(theirs, "pytorchvideo")
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)
    # PySlowFast's C2D/I3D: its pool after res2 has no weights, so the Slow-only names
    pyslowfast = convert_state_dict(sd, "slowfast_edu", "pyslowfast")
    assert {"s3.pathway0_res0.branch1.weight", "head.projection.weight"} <= set(pyslowfast)
    assert detect_format(pyslowfast) == "pyslowfast"
    assert set(convert_state_dict(pyslowfast, "auto")) == set(sd)
    # a Slow-only state dict (blocks.2 is res3) is still read as such
    with torch.device("meta"):
        slow_only = se.build_model("slow_8x8_r50").state_dict()
    slow = convert_state_dict(slow_only, "slowfast_edu",
                              "pytorchvideo")
    assert convert_state_dict(slow, "pytorchvideo")["slow.res3.0.conv_a.weight"] is \
        slow["blocks.2.res_blocks.0.branch2.conv_a.weight"]


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_table1_of_c2d_and_i3d():
    rows = {}
    for name in PARAMS:
        _, model = _meta(name)
        rows[name] = {r.stage: r for r in se.describe(model, [torch.empty(
            1, 3, 8, 224, 224, device="meta")])}
    c2d, i3d = rows["c2d_r50"], rows["i3d_r50"]
    assert c2d["conv1"].slow == "1x7x7, 64, stride 1x2x2"
    assert i3d["conv1"].slow == "5x7x7, 64, stride 1x2x2"
    assert c2d["res4"].slow == "[1x1x1, 256; 1x3x3, 256; 1x1x1, 1024] x6"
    assert i3d["res2"].slow == "[3x1x1, 64; 1x3x3, 64; 1x1x1, 256] x3"
    assert i3d["res3"].slow == "[3x1x1 / 1x1x1 alternating, 128; 1x3x3, 128; 1x1x1, 512] x4"
    assert i3d["res5"].slow == "[1x1x1 / 3x1x1 alternating, 512; 1x3x3, 512; 1x1x1, 2048] x3"
    for table in (c2d, i3d):
        order = list(table)
        assert order.index("pool2") == order.index("res2") + 1
        assert table["pool2"].slow == "2x1x1 max, stride 2x1x1"
        assert table["res2"].slow_out == (256, 8, 56, 56)
        assert table["pool2"].slow_out == (256, 4, 56, 56)  # T halved, then kept to the end
        assert table["res5"].slow_out == (2048, 4, 7, 7)
    assert "pool2" not in {r.stage for r in se.describe(
        se.build_model("slow_tiny"), se.example_inputs(se.get_config("slow_tiny"), 32))}


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_c2d_cannot_tell_a_clip_from_its_reverse():
    """Only pooling sees time in C2D: a clip played backwards gets the same scores; not in I3D."""
    clip = torch.randn(2, 3, 8, 32, 32)
    backwards = clip.flip(2)
    for name, same in (("c2d_tiny", True), ("i3d_tiny", False)):
        torch.manual_seed(0)
        model = randomize_bn(se.build_model(name, num_classes=6)).eval()
        with torch.inference_mode():
            forwards, reverse = model([clip]), model([backwards])
        assert torch.allclose(forwards, reverse, atol=1e-5) == same, name


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
@pytest.mark.parametrize("name", ["c2d_tiny", "i3d_tiny", "two_stream_tiny"])
def test_tiny_baselines_run_describe_and_fold_for_inference(name):
    torch.manual_seed(0)
    model = randomize_bn(se.build_model(name, num_classes=6)).eval()
    inputs = se.example_inputs(model.cfg, 32, batch_size=2)
    with torch.inference_mode():
        expected = model(inputs)
        assert (se.optimize_for_inference(model)(list(inputs)) - expected).abs().max() <= 1e-4
    assert expected.shape == (2, 6) and expected.std() > 1e-3
    rows = {r.stage: r for r in se.describe(model, inputs)}
    assert rows["head"].slow_out == (6,)


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_tiny_baselines_see_the_same_window_as_slowfast_tiny():
    geometry = {n: se.models.clip_geometry(se.get_config(n))
                for n in ("slowfast_tiny", "c2d_tiny", "i3d_tiny", "two_stream_tiny")}
    assert {(g.num_frames, g.sampling_rate) for g in geometry.values()} == {(16, 1)}
    assert se.get_config("c2d_tiny").slow_frames == 8  # every other frame of the 16
    gflops = {}
    for name in ("c2d_tiny", "i3d_tiny", "slowfast_tiny"):
        cfg = se.get_config(name)
        with torch.device("meta"):
            gflops[name] = se.count_flops(build_network(cfg), se.example_inputs(cfg, 64))
    # I3D pays for its motion with full-width 3D kernels on 8 frames: more than SlowFast
    assert gflops["c2d_tiny"] < gflops["slowfast_tiny"] < gflops["i3d_tiny"]


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_two_stream_streams_meet_only_at_the_head():
    model = se.build_model("two_stream_tiny", num_classes=6).eval()
    assert model.cfg.fast_input == "time_diff" and model.cfg.fusion == "none"
    assert all(b.conv_a.kernel_size[0] == 1 for _, s in model.slow.stages()[1:] for b in s)
    assert model.slow.res2[0].conv_a.in_channels == 32  # nothing concatenated from the motion
    features = {}
    model.slow.res5.register_forward_hook(lambda m, a, out: features.setdefault("rgb", []).append(
        out))
    slow, fast = se.example_inputs(model.cfg, 32)
    with torch.inference_mode():
        first = model([slow, fast])
        second = model([slow, fast + torch.randn_like(fast)])  # other motion, same RGB frames
    assert torch.equal(features["rgb"][0], features["rgb"][1])  # the RGB stream did not notice
    assert not torch.allclose(first, second)  # the scores did: late fusion
    # a still clip has no motion: the difference frames are all zero
    still = slow[:, :, :1].expand(-1, -1, 16, -1, -1)
    assert model.fast_input(still).abs().max() == 0


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_an_inflated_kernel_answers_a_still_clip_as_the_2d_kernel():
    conv2d = torch.nn.Conv2d(3, 4, 3, padding=1)
    conv3d = torch.nn.Conv3d(3, 4, (3, 3, 3), padding=1)
    with torch.no_grad():
        conv3d.weight.copy_(inflate_kernel(conv2d.weight, 3))
        conv3d.bias.copy_(conv2d.bias)
        image = torch.randn(1, 3, 16, 16)
        still = image[:, :, None].expand(-1, -1, 6, -1, -1)  # (1, 3, 6, 16, 16), 6 equal frames
        out = conv3d(still)
    assert torch.allclose(out[:, :, 1:-1], conv2d(image)[:, :, None].expand(-1, -1, 4, -1, -1),
                          atol=1e-5)
    assert not torch.allclose(out[:, :, 0], conv2d(image), atol=1e-3)  # zero padding in time


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_i3d_inflated_from_c2d_sees_a_still_clip_as_c2d():
    torch.manual_seed(0)
    c2d = randomize_bn(se.build_model("c2d_tiny", num_classes=6)).eval()
    i3d = inflate_from(c2d, se.build_model("i3d_tiny", num_classes=6)).eval()
    assert i3d.slow.stem.conv.weight.shape[2] == 5
    still = torch.randn(1, 3, 1, 32, 32).expand(-1, -1, 12, -1, -1)
    with torch.inference_mode():
        a = c2d.slow.res2(c2d.slow.stem(still))
        b = i3d.slow.res2(i3d.slow.stem(still))
    # the 5-frame stem and 3-frame res2 kernel reach 3 frames into the zero padding at each end
    assert torch.allclose(a[:, :, 3:-3], b[:, :, 3:-3], atol=1e-4)
    with pytest.raises(ValueError, match="different layers"):
        inflate_from(c2d, se.build_model("slowfast_tiny", num_classes=6))


@pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone
def test_temporal_pool_and_kernel_patterns_are_checked():
    with pytest.raises(se.models.ConfigError, match="res2_temporal_pool is for single-pathway"):
        se.get_config("slowfast_tiny", res2_temporal_pool=2)
    with pytest.raises(se.models.ConfigError, match=r"slow_temporal_kernels\[1\]\[1\] must be an "
                                                    r"odd integer"):
        se.get_config("i3d_tiny", slow_temporal_kernels=(3, (3, 2), 1, 1))
    with pytest.raises(se.models.ConfigError, match=r"non-empty tuple"):
        se.get_config("i3d_tiny", slow_temporal_kernels=(3, (), 1, 1))
    cfg = se.get_config("i3d_tiny", slow_temporal_kernels=[3, [3, 1], [3, 1], [1, 3]])  # YAML
    assert cfg.slow_temporal_kernels == ((3, (3, 1), (3, 1), (1, 3)))
    hash(cfg)
