"""Grad-CAM: shapes and ranges, captum parity for per_clip, targets, and no side effects."""

from __future__ import annotations

import pytest
import torch
from captum.attr import LayerGradCam

from slowfast_edu.explain.gradcam import (cam_from_gradients, default_layers, grad_cam,
                                          mass_inside, upsample_and_normalize)

from .conftest import assert_unchanged, clips_for, snapshot, tiny

PRESETS = ["slowfast_tiny", "slow_tiny", "fast_tiny"]


@pytest.mark.parametrize("mode", ["per_frame", "per_clip"])
@pytest.mark.parametrize("name", PRESETS)
def test_one_map_per_pathway_shaped_like_its_input_in_0_1(name, mode):
    model = tiny(name)
    inputs = clips_for(model)
    cams = grad_cam(model, inputs, mode=mode)
    expected = {"slowfast_tiny": ["slow", "fast"], "slow_tiny": ["slow"], "fast_tiny": ["fast"]}
    assert list(cams) == expected[name]
    for clip, cam in zip(inputs, cams.values()):
        assert cam.shape == (2, 1, *clip.shape[2:])  # (B, 1, T, H, W)
        assert cam.dtype == torch.float32 and torch.isfinite(cam).all()
        assert cam.min() >= 0 and cam.max() <= 1
        flat = cam.flatten(1)
        assert torch.allclose(flat.max(dim=1).values, torch.ones(2))  # min-max per clip
        assert torch.allclose(flat.min(dim=1).values, torch.zeros(2))
        assert flat.std(dim=1).min() > 0.05  # a map, not a constant


@pytest.mark.parametrize("stage", ["res5", "res4"])
@pytest.mark.parametrize("pathway", ["slow", "fast"])
def test_per_clip_equals_captum_layer_gradcam_on_softmax_probabilities(pathway, stage):
    model = tiny("slowfast_tiny").eval()
    inputs = clips_for(model)
    layer = getattr(model, pathway).__getattr__(stage)[-1]
    if stage == "res5":
        assert default_layers(model)[pathway] is layer
    target = torch.tensor([0, 4])  # classes whose maps are not all zero (ReLU) on these clips

    def probabilities(slow, fast):  # captum calls forward(*inputs); we score probabilities
        return model([slow, fast]).softmax(dim=-1)

    reference = LayerGradCam(probabilities, layer).attribute(
        tuple(inputs), target=target, relu_attributions=True).detach()  # (B, 1, t, h, w)
    layers = {pathway: layer}
    ours = grad_cam(model, inputs, target, layers, mode="per_clip", normalize=False)[pathway]
    side = {"res5": 4, "res4": 4}[stage]  # stride 16 at 64 px (res5: stride 1, dilation 2)
    assert ours.shape == reference.shape == (2, 1, {"slow": 4, "fast": 16}[pathway], side, side)
    assert reference.max() > 0
    scale = reference.abs().max()
    assert (ours - reference).abs().max() <= 1e-5 * scale  # raw maps, relative to their size
    size = inputs[0 if pathway == "slow" else 1].shape[2:]
    normalised = grad_cam(model, inputs, target, layers, mode="per_clip")[pathway]
    assert (normalised - upsample_and_normalize(reference, size)).abs().max() <= 1e-5


def test_per_frame_differs_from_per_clip_only_before_the_last_block():
    """The head averages res5's output over T, H, W, so the gradient there is the same at every
    position and both weightings agree; one block earlier it varies in time, and they differ."""
    model = tiny("slowfast_tiny")
    inputs = clips_for(model)
    for layers, same in ((None, True), ({"slow": model.slow.res4[-1],
                                         "fast": model.fast.res4[-1]}, False)):
        per_frame = grad_cam(model, inputs, layers=layers, mode="per_frame")
        per_clip = grad_cam(model, inputs, layers=layers, mode="per_clip")
        for name in per_frame:
            gap = (per_frame[name] - per_clip[name]).abs().max()
            assert gap < 1e-5 if same else gap > 0.05, (name, gap)


def test_cam_formula_by_hand():
    acts = torch.rand(1, 2, 3, 2, 2)  # (B, C, T, h, w)
    grads = torch.zeros(1, 2, 3, 2, 2)
    grads[0, 0, 0] = 1.0  # channel 0 matters, at t = 0 only
    grads[0, 1, 2] = -3.0  # channel 1 counts against, at t = 2
    per_frame = cam_from_gradients(acts, grads, "per_frame")
    assert torch.allclose(per_frame[0, 0, 0], acts[0, 0, 0])
    assert torch.equal(per_frame[0, 0, 1], torch.zeros(2, 2))
    assert torch.equal(per_frame[0, 0, 2], torch.zeros(2, 2))  # ReLU of a negative map
    per_clip = cam_from_gradients(acts, grads, "per_clip")  # w = (1/3, -1)
    assert torch.allclose(per_clip[0, 0], (acts[0, 0] / 3 - acts[0, 1]).clamp_min(0))


def test_targets_choose_the_class():
    model = tiny("slowfast_tiny")
    inputs = clips_for(model)
    first, second = grad_cam(model, inputs, target=0), grad_cam(model, inputs, target=2)
    for name in first:
        assert (first[name] - second[name]).abs().max() > 0.1
    mixed = grad_cam(model, inputs, target=torch.tensor([0, 2]))  # one class per clip
    for name in mixed:
        assert torch.allclose(mixed[name][0], first[name][0], atol=1e-6)
        assert torch.allclose(mixed[name][1], second[name][1], atol=1e-6)
    with torch.no_grad():
        predicted = model.eval()(inputs).argmax(dim=-1)
    default = grad_cam(model, inputs)
    explicit = grad_cam(model, inputs, target=predicted)
    for name in default:
        assert torch.equal(default[name], explicit[name])
    with pytest.raises(ValueError, match="target classes must be in 0..4"):
        grad_cam(model, inputs, target=7)
    with pytest.raises(ValueError, match="mode must be one of"):
        grad_cam(model, inputs, mode="per_pixel")


def test_model_and_inputs_come_back_exactly_as_they_were():
    model = tiny("slowfast_tiny").train()
    model.slow.res2.eval()  # a mixed state: some modules frozen in eval on purpose
    model.fast.stem.conv.weight.requires_grad_(False)
    model.head.proj.bias.grad = torch.full_like(model.head.proj.bias, 0.5)  # a pending grad
    inputs = clips_for(model)
    copies = [x.clone() for x in inputs]
    before = snapshot(model)
    for mode in ("per_frame", "per_clip"):
        grad_cam(model, inputs, mode=mode)
    assert_unchanged(model, before)
    assert model.head.proj.weight.grad is None
    for x, copy in zip(inputs, copies):
        assert torch.equal(x, copy) and not x.requires_grad and x.grad is None


def test_works_with_every_weight_frozen_and_under_no_grad():
    model = tiny("fast_tiny").requires_grad_(False)
    inputs = clips_for(model)
    before = snapshot(model)
    with torch.no_grad():  # a notebook may call it from inside no_grad
        cam = grad_cam(model, inputs)["fast"]
    assert cam.max() == 1
    assert_unchanged(model, before)


def test_an_all_zero_map_stays_zero_not_nan():
    assert torch.equal(upsample_and_normalize(torch.zeros(2, 1, 2, 2, 2), (4, 8, 8)),
                       torch.zeros(2, 1, 4, 8, 8))
    model = tiny("slow_tiny")
    with torch.no_grad():
        model.head.proj.weight.zero_()  # the score ignores the features: no gradient, no map
    cam = grad_cam(model, clips_for(model))["slow"]
    assert torch.equal(cam, torch.zeros_like(cam))


def test_mass_inside():
    cam = torch.zeros(2, 1, 2, 4, 4)
    cam[0, 0, :, :2, :2] = 1.0  # all inside the mask
    cam[1] = 1.0  # uniform
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)  # (T, H, W), broadcast over the batch
    mask[:, :2, :2] = True
    assert torch.allclose(mass_inside(cam, mask), torch.tensor([1.0, 0.25]))
    assert mass_inside(torch.zeros(1, 1, 2, 4, 4), mask).item() == 0
