"""Grad-CAM per pathway for one box's action, on the tiny teaching detector."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.explain import box_grad_cam, cam_from_gradients

from .conftest import clips_for, tiny

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BOXES = torch.tensor([[0, 2.0, 3.0, 15.0, 20.0], [1, 15.0, 5.0, 32.0, 25.0],
                      [1, 0.0, 0.0, 10.0, 10.0]])  # pixels of 32 x 32 clips (small: fast)


def test_one_map_per_pathway_for_the_boxs_action_on_its_own_clip():
    model = tiny("slowfast_tiny_detection").eval()
    inputs = clips_for(model, batch=2, size=32)
    with torch.no_grad():
        probs = model.head.probabilities(model(inputs, BOXES))  # (3, 5)
    cams = box_grad_cam(model, inputs, BOXES, box=1)  # its top action
    assert {k: tuple(v.shape) for k, v in cams.items()} == {"slow": (1, 1, 4, 32, 32),
                                                            "fast": (1, 1, 16, 32, 32)}
    assert all(0 <= float(v.min()) and float(v.max()) == 1 for v in cams.values())
    top = int(probs[1].argmax())
    # the box's clip alone gives the same maps: the other clip and its boxes play no part
    alone = box_grad_cam(model, [x[1:] for x in inputs], BOXES[1:2] - torch.tensor(
        [1.0, 0, 0, 0, 0]), box=0, action=top, normalize=False)
    raw = box_grad_cam(model, inputs, BOXES, 1, top, normalize=False)  # the top action's
    assert all(torch.allclose(cams[p].amax(), torch.tensor(1.0)) for p in cams)
    assert all(torch.allclose(raw[p], alone[p], atol=1e-6) for p in raw)
    # by hand at the last res5 blocks: the gradient of sigmoid(logit[box, action])
    features = {}
    layers = {"slow": model.slow.res5[-1], "fast": model.fast.res5[-1]}
    hooks = [m.register_forward_hook(lambda _m, _i, out, n=n: features.__setitem__(n, out))
             for n, m in layers.items()]
    x = [c.clone().requires_grad_(True) for c in inputs]
    y = model(x, BOXES)[1, top].sigmoid()
    for h in hooks:
        h.remove()
    grads = torch.autograd.grad(y, [features["slow"], features["fast"]])
    for p, g in zip(("slow", "fast"), grads):
        by_hand = cam_from_gradients(features[p].detach()[1:], g[1:])
        assert torch.allclose(raw[p], by_hand, atol=1e-6)
    # two boxes of one clip, two actions: different evidence
    other = box_grad_cam(model, inputs, BOXES, box=2, action=(top + 1) % 5, normalize=False)
    assert not torch.allclose(other["fast"], raw["fast"])


def test_a_classifier_or_a_wrong_box_is_refused_plainly():
    detector = tiny("slowfast_tiny_detection")
    inputs = clips_for(detector, batch=2, size=32)
    with pytest.raises(ValueError, match="box must be a row of boxes"):
        box_grad_cam(detector, inputs, BOXES, box=3)
    with pytest.raises(ValueError, match="action must be in 0..4"):
        box_grad_cam(detector, inputs, BOXES, box=0, action=7)
    classifier = tiny()
    with pytest.raises(ValueError, match="for a classifier use grad_cam"):
        box_grad_cam(classifier, clips_for(classifier, size=32), BOXES)
