"""Checks of the exercises that look inside a trained model: shapes, temporal energy, Grad-CAM,
the top-5 (notebooks 07, 08, 10)."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..data import synthetic
from ..data.sampling import pack_pathways, sample_indices
from ..data.transforms import test_transform
from ..explain import activations, gradcam
from ..models import (build_model, build_network, clip_geometry, example_inputs, get_config,
                      load_default_model)
from ..models.describe import describe
from .common import (as_tensor, diagnose, exercise_check, fail, listed, own, run_student,
                     same)


def _shape_settings() -> list[tuple[str, object, int]]:
    tiny = get_config("slowfast_tiny")
    return [
        ("the default model", dataclasses.replace(tiny, pool1=False), 64),
        ("slowfast_tiny (with pool1)", tiny, 48),
        ("SlowFast 4x16 R50", get_config("slowfast_4x16_r50"), 224),
        ("SlowFast 8x8 R50 with beta = 1/4", get_config("slowfast_8x8_r50", beta_inv=4), 224),
        ("slowfast_tiny with alpha = 2, T = 8", dataclasses.replace(
            tiny, alpha=2, slow_frames=8, pool1=False), 64),
    ]


@functools.lru_cache(maxsize=None)
def _measured_res4(cfg, size: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    with torch.device("meta"):
        model = build_network(cfg)
        rows = {row.stage: row for row in describe(model, example_inputs(cfg, size,
                                                                          device="meta"))}
    return (1, *rows["res4"].slow_out), (1, *rows["res4"].fast_out)


def _as_shape(x) -> tuple[int, ...] | None:
    if isinstance(x, (torch.Size, tuple, list)) and all(isinstance(d, int) for d in x):
        return tuple(x)
    t = as_tensor(x) if not isinstance(x, torch.Tensor) else None
    return tuple(int(v) for v in t.tolist()) if t is not None and t.dim() == 1 else None


@exercise_check("res4_shapes", library=lambda: [describe, activations.capture_activations],
                subclass=False, wrong=[
    ("def res4_shapes(cfg, size):\n"
     "    s = size // 8\n"
     "    return ((1, 16 * cfg.width, cfg.slow_frames, s, s),\n"
     "            (1, 16 * cfg.width, cfg.alpha * cfg.slow_frames, s, s))", "beta"),
    ("def res4_shapes(cfg, size):\n"
     "    s = size // 8\n"
     "    return ((1, 16 * cfg.width, cfg.slow_frames, s, s),\n"
     "            (1, 16 * cfg.width // cfg.beta_inv, cfg.slow_frames, s, s))", "alpha"),
    ("def res4_shapes(cfg, size):\n"
     "    s = size // 8\n"
     "    return ((1, 16 * cfg.width, cfg.slow_frames, s, s),\n"
     "            (1, 16 * cfg.width // cfg.beta_inv, cfg.alpha * cfg.slow_frames, s, s))",
     "pool1"),
    ("def res4_shapes(cfg, size):\n"
     "    return (1, 512, 4, 8, 8), (1, 64, 16, 8, 8)", "every"),
])
def check_res4_shapes(res4_shapes: Callable) -> None:
    """Exercise 07.1: the res4 output shapes of each pathway, from the config alone."""
    name = "res4_shapes"
    own(res4_shapes, name)
    forbid = [describe, activations.capture_activations, build_model, build_network]
    settings = _shape_settings()
    shown = _measured_res4(*settings[0][1:])  # the default model's, which the notebook uses
    for label, cfg, size in settings:
        setting = f"{label} at {size} x {size}"
        got = run_student(res4_shapes, (cfg, size), name, forbid, setting=setting)
        want = _measured_res4(cfg, size)
        pair = got if isinstance(got, (tuple, list)) and len(got) == 2 else None
        shapes = None if pair is None else tuple(_as_shape(s) for s in pair)
        if shapes is None or None in shapes:
            raise fail(f"{name} returned {got!r} for {setting}", "return (slow_shape, "
                       "fast_shape), each a tuple (B, C, T, H, W)")
        if shapes == want:
            continue
        (slow, fast), (w_slow, w_fast) = shapes, want
        hint = None
        if len(fast) == 5 and fast[1] == w_slow[1]:
            hint = "the Fast pathway has beta = 1/beta_inv of the Slow pathway's channels"
        elif len(fast) == 5 and fast[2] == w_slow[2] != w_fast[2]:
            hint = "the Fast pathway has alpha times the Slow pathway's frames"
        elif len(slow) == 5 and slow[3] != w_slow[3]:
            first = "4 (conv1 and pool1, stride 2 each)" if cfg.pool1 else \
                "2 (conv1 only: cfg.pool1 is False)"
            hint = (f"space is divided by {first} before res2, and by 2 more in res3 and res4: "
                    f"check cfg.pool1")
        elif len(slow) == 5 and slow[1] != w_slow[1]:
            hint = ("res4's output has 16 x width channels in the Slow pathway (its bottleneck "
                    "is 4 x width wide and expands 4 times)")
        if shapes == shown and label != settings[0][0]:
            hint = ("those are the default model's shapes for every config: compute them from "
                    "cfg and size")
        raise fail(f"{name} for {setting} (a network the exercise did not show): got "
                   f"slow {slow}, fast {fast}; measured slow {w_slow}, fast {w_fast}", hint)
    print(f"✓ {name}: the measured res4 shapes of {len(settings)} networks, from "
          f"their configs alone")


ENERGY_SHAPES = [(2, 5, 4, 3, 3), (1, 8, 16, 6, 6), (3, 2, 1, 4, 5)]


@exercise_check("my_temporal_energy",
                library=lambda: [activations.temporal_energy], subclass=False, wrong=[
    ("def my_temporal_energy(x):\n    return x.pow(2).mean(dim=(2, 3, 4))", "keep B and T"),
    ("def my_temporal_energy(x):\n    return x.abs().mean(dim=(1, 3, 4))", "square"),
    ("def my_temporal_energy(x):\n    return x.pow(2).sum(dim=(1, 3, 4))", "mean"),
    ("def my_temporal_energy(x):\n    return temporal_energy(x)", "library's"),
])
def check_temporal_energy(my_temporal_energy: Callable) -> None:
    """Exercise 07.2: the mean squared activation per clip and time step."""
    name = "my_temporal_energy"
    own(my_temporal_energy, name)
    forbid = [activations.temporal_energy, activations.summarize]
    g = torch.Generator().manual_seed(5)
    for shape in ENERGY_SHAPES:
        x = torch.randn(shape, generator=g)
        setting = f"a map of shape {shape}"
        got = run_student(my_temporal_energy, (x.clone(),), name, forbid, setting=setting)
        want = activations.temporal_energy(x)
        if same(got, want):
            continue
        t = as_tensor(got)
        if t is None or tuple(t.shape) != tuple(want.shape):
            raise fail(f"{name} on {setting}: got shape {None if t is None else tuple(t.shape)},"
                       f" expected {tuple(want.shape)} (B, T)", "keep B and T: average over "
                       "dims 1 (C), 3 (H) and 4 (W)")
        hint = diagnose(got, [
            ("square the activations (energy), do not take absolute values",
             lambda: x.abs().mean(dim=(1, 3, 4))),
            ("the mean over C, H and W, not the sum", lambda: x.pow(2).sum(dim=(1, 3, 4))),
            ("no square root: the energy is the mean of the squares",
             lambda: x.pow(2).mean(dim=(1, 3, 4)).sqrt()),
            ("square first, then average: the mean of the squares, not the square of the mean",
             lambda: x.mean(dim=(1, 3, 4)).pow(2)),
        ])
        raise fail(f"{name} on {setting} (not the notebook's map) differs from temporal_energy",
                   hint)
    print(f"✓ {name}: right on {len(ENERGY_SHAPES)} maps of other shapes")


def _check_clip(seed: int = 11) -> tuple[list[torch.Tensor], int]:
    """A synthetic clip the notebook never shows, read as the default model is tested."""
    class_id = synthetic.CLASSES.index("red_circle_moving_left")
    plan = synthetic.plan_clip(class_id, seed=seed, num_frames=64, size=64)
    frames = torch.from_numpy(synthetic.render_clip(plan))  # (64, H, W, 3) uint8
    index = sample_indices(len(frames), synthetic.FPS, 16, 1, clip_index=1, num_clips=2)
    clip = test_transform(64, 64)(frames[index])  # (3, 16, 64, 64)
    return pack_pathways(clip[None], 4), class_id


def _cam_variants(model, inputs, layer, target: int, mode: str, size) -> list:
    saved = {}
    hook = layer.register_forward_hook(lambda m, a, out: saved.update(A=out))
    try:
        with torch.enable_grad():
            x = [clip.detach() for clip in inputs]
            logits = model(x)
            A = saved["A"]
            d_prob, = torch.autograd.grad(logits.softmax(-1)[0, target], A, retain_graph=True)
            d_logit, = torch.autograd.grad(logits[0, target], A)
    finally:
        hook.remove()
    A = A.detach()

    def cam(grad, relu=True, norm=True, resize="upsample", weighting=mode):
        dims = (3, 4) if weighting == "per_frame" else (2, 3, 4)
        c = (grad.mean(dim=dims, keepdim=True) * A).sum(dim=1, keepdim=True)
        c = F.relu(c) if relu else c
        c = gradcam.upsample(c, size) if resize == "upsample" else F.interpolate(
            c, size=tuple(size), mode="trilinear", align_corners=False)
        return (c - c.min()) / (c.max() - c.min()) if norm else c

    other = "per_clip" if mode == "per_frame" else "per_frame"
    return [
        (f"that is the {other} map: {mode} averages the gradient over "
         f"{'H and W only (dims 3, 4)' if mode == 'per_frame' else 'T, H and W (dims 2, 3, 4)'}",
         lambda: cam(d_prob, weighting=other)),
        ("differentiate the softmax probability of the target, as PySlowFast does, not its logit",
         lambda: cam(d_logit)),
        ("keep the positive part of the weighted sum: ReLU before upsampling",
         lambda: cam(d_prob, relu=False)),
        ("min-max normalise the upsampled map to [0, 1]", lambda: cam(d_prob, norm=False)),
        ("upsample with gradcam.upsample (each feature cell on the pixel it is centred on), not "
         "F.interpolate", lambda: cam(d_prob, resize="interpolate")),
    ]


@exercise_check("my_grad_cam", library=lambda: [gradcam.grad_cam], subclass=False, wrong=[
    ("def my_grad_cam(model, inputs, layer, target, mode, size):\n"
     "    return grad_cam(model, inputs, target, layers={'fast': layer}, mode=mode)['fast']",
     "library's"),
    ("def my_grad_cam(model, inputs, layer, target, mode, size):\n"
     "    saved = {}\n"
     "    hook = layer.register_forward_hook(lambda m, a, o: saved.update(A=o))\n"
     "    y = model(inputs)[0, target]\n"
     "    hook.remove()\n"
     "    A = saved['A']\n"
     "    (dA,) = torch.autograd.grad(y, A)\n"
     "    dims = (3, 4) if mode == 'per_frame' else (2, 3, 4)\n"
     "    cam = F.relu((dA.mean(dim=dims, keepdim=True) * A.detach()).sum(1, keepdim=True))\n"
     "    cam = upsample(cam, size)\n"
     "    return (cam - cam.min()) / (cam.max() - cam.min())\n", "softmax probability"),
])
def check_grad_cam(my_grad_cam: Callable) -> None:
    """Exercise 08.1: Grad-CAM by hand, on layers, modes and a clip the notebook did not use."""
    name = "my_grad_cam"
    own(my_grad_cam, name)
    model = load_default_model().eval()
    inputs, class_id = _check_clip()
    forbid = [gradcam.grad_cam, gradcam.cam_from_gradients, gradcam.upsample_and_normalize]
    cases = [("fast", "res4", "per_clip"), ("fast", "res4", "per_frame"),
             ("slow", "res4", "per_frame"), ("fast", "res3", "per_frame")]
    for pathway, stage, mode in cases:
        layer = getattr(getattr(model, pathway), stage)[-1]
        size = inputs[0 if pathway == "slow" else 1].shape[2:]
        setting = f"the {pathway} pathway's last {stage} block, {mode}"
        got = run_student(my_grad_cam, (model, [x.clone() for x in inputs], layer, class_id,
                                        mode, size), name, forbid, setting=setting)
        want = gradcam.grad_cam(model, inputs, target=class_id, layers={pathway: layer},
                                mode=mode)[pathway]
        t = as_tensor(got)
        if t is None or tuple(t.shape) != tuple(want.shape):
            raise fail(f"{name} for {setting}: shape {None if t is None else tuple(t.shape)}, "
                       f"expected {tuple(want.shape)}", "a map (1, 1, T, H, W): the sum over "
                       "channels keeps dim 1 (keepdim=True), then upsample(cam, size)")
        if same(t, want, atol=1e-4):
            continue
        hint = diagnose(t, _cam_variants(model, inputs, layer, class_id, mode, size), atol=1e-4)
        raise fail(f"{name} for {setting} (on a clip the notebook did not show) differs from "
                   f"grad_cam (max abs difference {float((t - want).abs().max()):.3g})", hint)
    print(f"✓ {name}: grad_cam's maps for {len(cases)} layers and modes on another clip")


TOP5_CLIPS = ["val/blue_square_moving_right_0001.mp4", "val/red_circle_moving_left_0002.mp4",
              "val/yellow_triangle_moving_right_0000.mp4"]


@functools.lru_cache(maxsize=None)
def _reference_top5(path: str) -> dict[str, float]:
    from ..views import read_views

    model = load_default_model()
    inputs = read_views(path, clip_geometry(model.cfg)).inputs  # [slow, fast]
    with torch.no_grad():
        probs = model.eval()(inputs).softmax(dim=-1)[0]  # (K,)
    top = probs.topk(5)
    return {model.classnames[int(i)]: float(p) for p, i in zip(top.values, top.indices)}


@exercise_check("top5", library=lambda: [_app_analyse()], subclass=False, wrong=[
    ("def top5(model, path):\n"
     "    inputs = read_views(path, clip_geometry(model.cfg)).inputs\n"
     "    logits = model(inputs)[0]\n"
     "    top = logits.topk(5)\n"
     "    return {model.classnames[int(i)]: float(p) for p, i in zip(top.values, top.indices)}\n",
     "softmax"),
    ("def top5(model, path):\n"
     "    inputs = read_views(path, clip_geometry(model.cfg)).inputs\n"
     "    probs = model(inputs).softmax(-1)[0]\n"
     "    top = probs.topk(5)\n"
     "    pairs = [(model.classnames[int(i)], float(p)) for p, i in zip(top.values, top.indices)]\n"
     "    return dict(reversed(pairs))\n", "most probable"),
    ("def top5(model, path):\n"
     "    inputs = read_views(path, clip_geometry(model.cfg)).inputs\n"
     "    probs = model(inputs).softmax(-1)[0]\n"
     "    top = probs.topk(5)\n"
     "    return {int(i): float(p) for p, i in zip(top.values, top.indices)}\n", "names"),
])
def check_top5(top5: Callable) -> None:
    """Exercise 10.1: the default model's top-5 {class name: probability} for clips not shown."""
    from ..notebooks.clips import sample_clip

    name = "top5"
    own(top5, name)
    for clip in TOP5_CLIPS:
        path = sample_clip(clip)
        model = load_default_model()
        got = run_student(top5, (model, path), name, _loaded_app_functions(), setting=path.name)
        want = _reference_top5(str(path))
        if not isinstance(got, dict):
            raise fail(f"{name}(model, {path.name}) returned {type(got).__name__}",
                       "return a dict {class name: probability}")
        if list(got) != list(want):
            if set(got) == set(want):
                hint = "most probable first: topk gives them in that order"
            elif all(isinstance(k, int) for k in got):
                hint = "the keys are class names: model.classnames[i]"
            else:
                hint = None
            raise fail(f"{name}(model, {path.name}): classes {list(got)}, expected "
                       f"{list(want)}", hint)
        values = [float(v) for v in got.values()]
        if same(values, list(want.values()), atol=1e-4):
            continue
        hint = ("probabilities: the softmax of the logits" if max(values) > 1 or min(values) < 0
                else "model.eval(): dropout and batch statistics change the answer in training "
                     "mode")
        raise fail(f"{name}(model, {path.name}): probabilities {listed(values)}, expected "
                   f"{listed(list(want.values()))}", hint)
    print(f"✓ {name}: the default model's top-5 on {len(TOP5_CLIPS)} clips")


def _loaded_app_functions() -> list:
    """The app's `analyse` (when the app is loaded: the notebook loads it) and the library's
    one-call `predict`: a top-5 handed back from either is not the student's own."""
    from ..predict import predict

    module = sys.modules.get("slowfast_edu.app.analysis")
    return [predict] + ([module.analyse] if module is not None else [])


def _app_analyse():
    """The app's `analyse` (what a student might hand back), imported only when asked for."""
    from ..app.analysis import analyse

    return analyse
