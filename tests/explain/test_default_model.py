"""Issue 5's check on the default trained model: on a synthetic clip with one moving object, the
Grad-CAM map of each pathway puts most of its mass on the object, frame by frame, far above what a
uniform map would.

The clips are the synthetic set's, drawn by `one_moving_object`: no grey ring, the shape gliding
steadily through the clip. They are sampled and cropped as `slowfast-edu explain` does (16 frames,
64 x 64, no resizing, so the object's mask lines up with the pixels). The maps are `grad_cam`'s
defaults: the last res5 block of each pathway, per-frame weights; the target is the true class.
The set's own clips, where the shape jumps to a new place every 4 frames, are checked too, without
the ring: there each pathway's temporal kernels mix frames that show the shape in different places.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import slowfast_edu
from slowfast_edu.data import pack_pathways, sample_indices
from slowfast_edu.data import test_transform as centre_crop_transform
from slowfast_edu.data import synthetic
from slowfast_edu.explain.gradcam import grad_cam, mass_inside, upsample_and_normalize
from slowfast_edu.explain.render import slow_positions
from slowfast_edu.models import clip_geometry

SEEDS = range(1000, 1004)  # 4 clips per class, 24 in all
# measured on these 24 clips: one moving object, Slow 0.63 of the map on the object (5.7x uniform),
# Fast 0.59 (5.3x); jumping, Slow 0.52 (4.6x), Fast 0.55 (4.9x)
MANY_TIMES, JUMPING = 5, 0.45
KINDS = {"one moving object": synthetic.one_moving_object,
         "jumping, no ring": lambda plan: dataclasses.replace(plan, distractor=False)}


def synthetic_view(plan: synthetic.ClipPlan, cfg) -> tuple[list[torch.Tensor], dict]:
    """Inputs sampled as `slowfast-edu explain` samples them, and the object's masks."""
    g = clip_geometry(cfg)
    frames = torch.from_numpy(synthetic.render_clip(plan))  # (64, H, W, 3)
    index = sample_indices(len(frames), synthetic.FPS, g.num_frames, g.sampling_rate,
                           g.target_fps, clip_index=1, num_clips=2)
    clip = centre_crop_transform(g.test_short_side, g.test_crop_size, 1)(frames[index])
    assert clip.shape[-1] == plan.size  # no resizing: the masks line up with the pixels
    slow, fast = pack_pathways(clip[None], cfg.alpha)
    fast_mask = torch.from_numpy(synthetic.object_mask(plan)[index.numpy()])  # (T, H, W)
    slow_mask = fast_mask[slow_positions(slow.shape[2], fast.shape[2])]
    return [slow, fast], {"slow": slow_mask, "fast": fast_mask}


@pytest.fixture(scope="module")
def default_model():
    return slowfast_edu.load_default_model()


@pytest.fixture(scope="module")
def measured(default_model) -> dict[str, list[dict]]:
    """Per kind of clip, per clip: its class, the predicted class, and per pathway the map's
    fraction of mass on the object and the object's area (what a uniform map would put there)."""
    model = default_model
    rows: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for kind, draw in KINDS.items():
        for class_id in range(len(synthetic.CLASSES)):
            for seed in SEEDS:
                plan = draw(synthetic.plan_clip(class_id, seed, 64, model.cfg.crop_size))
                inputs, masks = synthetic_view(plan, model.cfg)
                with torch.no_grad():
                    predicted = int(model(inputs).argmax())
                cams = grad_cam(model, inputs, target=class_id)  # res5, per frame
                rows[kind].append({"class": class_id, "predicted": predicted, **{
                    p: (float(mass_inside(cams[p], masks[p])[0]), float(masks[p].float().mean()))
                    for p in cams}})
    return rows


def fractions(rows: list[dict], pathway: str) -> tuple[np.ndarray, np.ndarray]:
    inside = np.array([r[pathway][0] for r in rows])  # fraction of each map on the object
    area = np.array([r[pathway][1] for r in rows])  # what a uniform map would put there
    return inside, area


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_clips_are_classified_right(measured, kind):
    assert [r["predicted"] for r in measured[kind]] == [r["class"] for r in measured[kind]]


@pytest.mark.parametrize("pathway", ["slow", "fast"])
def test_default_model_looks_at_the_moving_object(measured, pathway):
    inside, area = fractions(measured["one moving object"], pathway)
    assert area.mean() < 0.12  # a uniform map puts about a ninth of its mass on the object ...
    assert inside.mean() > 0.5, (pathway, inside.round(2))  # ... these maps most of it
    assert inside.mean() / area.mean() >= MANY_TIMES, (pathway, inside.mean(), area.mean())
    assert np.median(inside) > 0.5, (pathway, inside.round(2))  # not a few lucky clips


@pytest.mark.parametrize("pathway", ["slow", "fast"])
def test_maps_follow_the_shape_where_it_jumps(measured, pathway):
    inside, area = fractions(measured["jumping, no ring"], pathway)
    assert inside.mean() > JUMPING, (pathway, inside.round(2))
    assert inside.mean() / area.mean() >= 4, (pathway, inside.mean(), area.mean())


def test_the_default_model_has_8_by_8_res5_maps(default_model):
    """Why it can: without pool1 and with the dilated res5 its last maps are 8 x 8 at 64 px;
    a perfect map at that size (the object's coverage of the 8 x 8 pixels around each cell's
    centre), upsampled, puts ~70% of its mass on these shapes, against ~45% at 4 x 4 (with pool1)
    and ~15% at 2 x 2 (with pool1 and the paper's stride-2 res5): "most of the mass on the
    object" needs 8 x 8 maps."""
    cfg = default_model.cfg
    assert (cfg.crop_size, cfg.pool1, cfg.res5_dilation) == (64, False, 2)
    inputs = slowfast_edu.example_inputs(cfg, cfg.crop_size)
    maps = grad_cam(default_model, inputs, normalize=False)
    assert maps["slow"].shape[-2:] == maps["fast"].shape[-2:] == (8, 8)
    ceilings = {2: [], 4: [], 8: []}
    for class_id in range(len(synthetic.CLASSES)):
        plan = synthetic.plan_clip(class_id, seed=1000 + class_id)
        mask = torch.from_numpy(synthetic.object_mask(plan))[:16].float()  # (T, H, W)
        for side in ceilings:
            s = mask.shape[-1] // side  # the stride; cell j is centred on pixel s * j
            ideal = F.avg_pool2d(F.pad(mask, (s // 2, 0, s // 2, 0)), s)[None, None]  # (1,1,T,h,w)
            cam = upsample_and_normalize(ideal, mask.shape)  # (1, 1, T, H, W)
            ceilings[side].append(float(mass_inside(cam, mask.bool())[0]))
    means = {side: np.mean(values) for side, values in ceilings.items()}
    assert means[2] < 0.25 < means[4] < 0.5 < means[8], means
