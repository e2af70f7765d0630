"""The RoI detection head and the detector presets, on the tiny teaching detector (fast to run)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

import slowfast_edu as se
from slowfast_edu.models import HEADS, RoIHead, count_params, load_weights
from slowfast_edu.models.convert import convert_state_dict
from slowfast_edu.models.detection import feature_stride

from ..conftest import randomize_bn

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone

BOXES = torch.tensor([[0, 0.0, 0.0, 20.0, 30.0],  # touches the top-left corner
                      [1, 10.0, 12.5, 64.0, 64.0],  # touches the bottom-right corner
                      [1, 5.0, 5.0, 15.0, 15.0]])


def _tiny(name: str = "slowfast_tiny_detection", **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    return se.build_model(name, **overrides)


def test_the_detector_presets():
    with torch.device("meta"):
        counts = {n: count_params(se.build_model(n)) for n in
                  ("slowfast_8x8_r50_detection", "slow_4x16_r50_detection",
                   "slow_8x8_r50_detection")}
    # PyTorchVideo's slowfast_r50_detection and slow_r50_detection, measured
    # (tests/models/test_detection_parity.py builds them): Slow-only 8x8 is the same network
    assert counts == {"slowfast_8x8_r50_detection": 33_828_888,
                      "slow_4x16_r50_detection": 31_798_416, "slow_8x8_r50_detection": 31_798_416}
    cfg = se.get_config("slowfast_8x8_r50_detection")
    assert (cfg.head, cfg.num_classes, cfg.res5_dilation, cfg.alpha) == ("detection", 80, 2, 4)
    assert feature_stride(cfg) == 16  # res5 at 1/16: stride 1 with dilation 2
    assert feature_stride(se.get_config("slowfast_tiny_detection")) == 16
    assert feature_stride(se.get_config("slowfast_tiny_detection", pool1=False)) == 8
    assert se.get_config("slowfast_8x8_r50").num_classes == 400  # each preset keeps its own
    assert se.get_config("slowfast_tiny_detection", num_classes=5).num_classes == 5
    assert HEADS["detection"] is RoIHead and RoIHead.takes_boxes
    assert not HEADS["classification"].takes_boxes


def test_table_1_with_the_roi_head():
    with torch.device("meta"):
        model = se.build_model("slowfast_8x8_r50_detection")
    inputs = se.example_inputs(model.cfg, 224, device="meta")
    boxes = torch.tensor([[0, 10.0, 20.0, 100.0, 200.0], [0, 0, 0, 50, 50]], device="meta")
    rows = {r.stage: r for r in se.describe(model, inputs, boxes)}
    assert rows["res5"].slow == "[3x1x1, 512; 1x3x3, 512; 1x1x1, 2048] x3, dilation 2"
    assert rows["res5"].slow_out == (2048, 8, 14, 14)  # 1/16 of 224: res5 keeps res4's size
    assert rows["res5"].fast_out == (256, 32, 14, 14)
    assert rows["head"].slow == ("per box: temporal mean, RoIAlign 7x7 at 1/16, spatial max; "
                                 "concat, dropout 0.5, fc 2304 -> 80, sigmoid")
    assert rows["head"].slow_out == (80,)  # per box
    # FLOPs (our measurement, torch's counter, one whole-frame box): the dilated res5 at 14 x 14
    # costs 74.18 GFLOPs against the classification network's 50.31 at 224
    assert se.count_flops(model, inputs) == pytest.approx(74.18, abs=0.01)


def test_one_row_of_scores_per_box_and_whole_frames_without_boxes():
    model = randomize_bn(_tiny()).eval()
    inputs = se.example_inputs(model.cfg, 64, batch_size=2)
    with torch.no_grad():
        scores = model(inputs, BOXES)
        whole = model(inputs)
        explicit = model(inputs, torch.tensor([[0, 0, 0, 64, 64.0], [1, 0, 0, 64, 64]]))
        none = model(inputs, torch.zeros(0, 5))
        alone = model([x[1:] for x in inputs], BOXES[1:] - torch.tensor([1.0, 0, 0, 0, 0]))
    assert scores.shape == (3, 3) and whole.shape == (2, 3) and none.shape == (0, 3)
    assert torch.equal(whole, explicit)
    assert torch.allclose(alone, scores[1:], atol=1e-5)  # a box sees its own clip only
    probs = model.head.probabilities(scores)
    assert torch.equal(probs, scores.sigmoid())  # multi-label: rows need not sum to 1
    slow = _tiny("slow_tiny_detection").eval()
    assert slow(inputs[:1], BOXES).shape == (3, 3)


def test_roi_pooling_as_the_paper_describes_it():
    torch.manual_seed(0)
    head = RoIHead([6, 2], num_classes=4, dropout=0.0, spatial_scale=1 / 8).eval()
    slow, fast = torch.randn(2, 6, 3, 8, 8), torch.randn(2, 2, 12, 4, 4)  # Fast at half size
    pooled = head.pool([slow, fast], BOXES)  # (K, 6 + 2)
    # RoIAlign at every time step, then the mean over time (equal: both are linear) ...
    per_step = torch.stack([roi_align(slow[:, :, t], BOXES, 7, 1 / 8, 0, False)
                            for t in range(3)]).mean(0)  # (K, 6, 7, 7)
    assert torch.allclose(pooled[:, :6], per_step.amax(dim=(2, 3)), atol=1e-6)
    # ... and the half-size Fast map takes the boxes at half the scale
    fast_mean = fast.mean(dim=2)
    expected = roi_align(fast_mean, BOXES, 7, 1 / 16, 0, False).amax(dim=(2, 3))
    assert torch.allclose(pooled[:, 6:], expected, atol=1e-6)
    model = _tiny(fast_input="half_res").eval()
    assert model(se.example_inputs(model.cfg, 64, batch_size=2), BOXES).shape == (3, 3)


def test_bad_boxes_are_explained():
    model = _tiny().eval()
    inputs = se.example_inputs(model.cfg, 64, batch_size=2)
    with pytest.raises(ValueError, match=r"\(K, 5\) tensor.*got shape \(3, 4\).*prepend its index"):
        model(inputs, BOXES[:, 1:])
    with pytest.raises(ValueError, match=r"clip index in the batch, 0 to 1; got values "
                                         r"\[0.0, 2.0\]"):
        model(inputs, BOXES + torch.tensor([[0.0], [1], [1]]) * torch.tensor([1.0, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"x2 < x1.*\(x, y, width, height\)"):
        model(inputs, torch.tensor([[0, 30.0, 30, 10, 10]]))
    with pytest.raises(TypeError, match="got a list"):
        model(inputs, [[0, 1, 2, 3, 4]])


def test_the_detector_folds_for_inference_and_trains():
    model = randomize_bn(_tiny()).eval()
    inputs = se.example_inputs(model.cfg, 64, batch_size=2)
    with torch.no_grad():
        expected = model(inputs, BOXES)
    fast = se.optimize_for_inference(model)
    with torch.inference_mode():
        assert (fast(list(inputs), BOXES) - expected).abs().max().item() <= 1e-4
    assert expected.std() > 1e-3

    model = _tiny().train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    targets = torch.tensor([[1.0, 0, 1], [0, 1, 0], [0, 0, 0]])  # several actions per box
    loss = F.binary_cross_entropy_with_logits(model(inputs, BOXES), targets)
    loss.backward()
    for name in ("head.proj.weight", "slow.res5.0.bn_c.weight", "fast.res5.0.bn_c.weight",
                 "laterals.res4.conv.weight"):
        assert model.get_parameter(name).grad.abs().sum() > 0, name
    optimizer.step()


def test_a_pytorchvideo_detector_checkpoint_loads():
    model = _tiny()
    theirs = convert_state_dict(model.state_dict(), "slowfast_edu", "pytorchvideo",
                                head="detection")
    assert "detection_head.proj.weight" in theirs
    assert "model.blocks.0.multipathway_blocks.0.conv.weight" in theirs
    fresh = _tiny()
    torch.nn.init.zeros_(fresh.head.proj.weight)
    load_weights(fresh, {"model_state": theirs})  # the zoo's file: under "model_state"
    assert torch.equal(fresh.head.proj.weight, model.head.proj.weight)
    single = convert_state_dict(_tiny("slow_tiny_detection").state_dict(), "slowfast_edu",
                                "pytorchvideo", head="detection")
    assert "model.blocks.4.res_blocks.0.branch2.conv_b.weight" in single
    assert set(convert_state_dict(single, "auto")) == set(_tiny("slow_tiny_detection").state_dict())
