"""The trained default model looks at the moving object (runs once the model file exists).

How much of a map can land on the object depends on the layer's resolution: at 64 x 64 pixels the
last res5 block is 2 x 2, res4 4 x 4. A *perfect* localiser at those resolutions, upsampled as
grad_cam does, puts about 14% and 34% of its mass on a synthetic object covering 4% of the frame
(2.6x and 6.6x a uniform map; `test_resolution_ceiling` measures this). The thresholds below ask
for a clear part of that ceiling.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import slowfast_edu
from slowfast_edu.data import pack_pathways, sample_indices
from slowfast_edu.data import test_transform as centre_crop_transform
from slowfast_edu.data import synthetic
from slowfast_edu.explain.cli import preset_view
from slowfast_edu.explain.gradcam import grad_cam, mass_inside, upsample_and_normalize
from slowfast_edu.explain.render import slow_positions

NEEDS = "needs slowfast_edu.load_default_model"


def object_mask(plan: synthetic.ClipPlan) -> np.ndarray:
    """(T, H, W) bool: the pixels the class object covers (at least half)."""
    if hasattr(synthetic, "object_mask"):
        return np.asarray(synthetic.object_mask(plan), dtype=bool)
    # until the synthetic module has a public mask: its own anti-aliased coverage
    coverage = synthetic._coverage(plan, plan.shape, plan.x, plan.y, plan.angle, plan.radius)
    return coverage >= 0.5


def synthetic_view(plan: synthetic.ClipPlan, cfg) -> tuple[list[torch.Tensor], dict]:
    """Inputs sampled as `slowfast-edu explain` samples them, and the object's masks."""
    view = preset_view(cfg)
    frames = torch.from_numpy(synthetic.render_clip(plan))  # (64, H, W, 3)
    index = sample_indices(len(frames), synthetic.FPS, view["num_frames"], view["sampling_rate"],
                           view["target_fps"], clip_index=1, num_clips=2)
    clip = centre_crop_transform(view["short_side"], view["crop_size"], 1)(frames[index])
    assert clip.shape[-1] == plan.size  # no resizing: the masks line up with the pixels
    slow, fast = pack_pathways(clip[None], cfg.alpha)
    fast_mask = torch.from_numpy(object_mask(plan)[index.numpy()])  # (T, H, W)
    slow_mask = fast_mask[slow_positions(slow.shape[2], fast.shape[2])]
    return [slow, fast], {"slow": slow_mask, "fast": fast_mask}


@pytest.fixture(scope="module")
def default_model():
    if not hasattr(slowfast_edu, "load_default_model"):
        pytest.skip(NEEDS)
    try:
        return slowfast_edu.load_default_model()
    except FileNotFoundError as e:
        pytest.skip(f"{NEEDS} and its model file ({e})")


@pytest.mark.xfail(strict=True, reason="issue 5, open: the default model's Grad-CAM is not yet "
                   "concentrated on the object (measured 0.8x a uniform map on Slow res5)")
@pytest.mark.parametrize("stage, at_least", [("res5", 1.6), ("res4", 3.0)])
def test_default_model_looks_at_the_moving_object(default_model, stage, at_least):
    torch.manual_seed(0)
    model = default_model
    assert model.cfg.arch == "slowfast"
    layers = {p: getattr(model, p).__getattr__(stage)[-1] for p in ("slow", "fast")}
    ratios = {"slow": [], "fast": []}
    for class_id in range(len(synthetic.CLASSES)):
        plan = synthetic.plan_clip(class_id, seed=1000 + class_id)
        inputs, masks = synthetic_view(plan, model.cfg)
        cams = grad_cam(model, inputs, target=class_id, layers=layers)
        for name, cam in cams.items():
            uniform = masks[name].float().mean()
            ratios[name].append(float(mass_inside(cam, masks[name])[0] / uniform))
    for name, values in ratios.items():
        assert np.mean(values) >= at_least, (name, stage, np.round(values, 2))


def test_resolution_ceiling():
    ceilings = {2: [], 4: []}
    for class_id in range(len(synthetic.CLASSES)):
        plan = synthetic.plan_clip(class_id, seed=1000 + class_id)
        mask = torch.from_numpy(object_mask(plan))[:16].float()  # (T, H, W)
        for side in ceilings:
            ideal = F.adaptive_avg_pool2d(mask, side)[None, None]  # a perfect map at that size
            cam = upsample_and_normalize(ideal, mask.shape)  # (1, 1, T, H, W)
            ceilings[side].append(float(mass_inside(cam, mask.bool())[0] / mask.mean()))
    assert 2.0 < np.mean(ceilings[2]) < 3.5 and 5.0 < np.mean(ceilings[4]) < 8.5, ceilings
