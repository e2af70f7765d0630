"""Grad-CAM for video: where, and when, the clip holds the evidence for a class.

Grad-CAM (Selvaraju et al., ICCV 2017) looks at the feature maps A (B, C, T, h, w) of one layer and
the gradient of a class score y with respect to them. Each channel gets a weight, how much y grows
with that channel on average, and the map keeps the positive part of the weighted sum:

    w = mean of dy/dA over some axes,   cam = ReLU(sum_c w_c * A_c)        (B, 1, T, h, w)

For video there is a choice of axes, and the two libraries one meets make different ones:

- `mode="per_frame"` (PySlowFast's visualisation): average over space only, one weight per channel
  *and time step*, w (B, C, T, 1, 1): a channel may count at one moment and not at another;
- `mode="per_clip"` (captum's `LayerGradCam`): average over time too, one weight per channel,
  w (B, C, 1, 1, 1). Our per_clip map equals captum's on the same layer and score (tested).

At the default layer, the last block of res5, the two agree: the head averages that block's output
over all of T, H, W, so dy/dA is the same at every position and averaging it over space or over
space and time gives the same weights. They differ at any earlier layer (e.g. `res4[-1]`), where
the gradient has come back through temporal convolutions and varies with t.

The score y is the softmax *probability* of the target class, as PySlowFast does (its head ends in
a softmax at test time). captum differentiates whatever its forward function returns; to get the
same map from captum, give it a forward function that returns probabilities (as our test does).

The default layers are the last bottleneck of res5 of each pathway, the paper's last feature maps
before pooling. Each map is upsampled (linearly, with each feature cell on the pixel it is centred
on: see `upsample`) to its pathway's input (T, H, W) and min-max normalised per clip to [0, 1]; an
all-zero map (no positive evidence) stays all zero.

The model comes back as it was: modes, weights, BN statistics, requires_grad flags, `.grad`s
(gradients are taken with `torch.autograd.grad` with respect to the feature maps only), no hooks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from .activations import evaluating, pathway_names, split_inputs

MODES = ("per_frame", "per_clip")
Target = int | Sequence[int] | torch.Tensor | None


def default_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The last res5 block of each pathway: {"slow": model.slow.res5[-1], ...}."""
    return {name: getattr(model, name).res5[-1] for name in pathway_names(model)}


def resolve_target(target: Target, probs: torch.Tensor) -> torch.Tensor:
    """Class index per clip (B,): the predicted class for None, else `target` (int or per clip)."""
    batch, num_classes = probs.shape
    if target is None:
        return probs.argmax(dim=-1)
    index = torch.as_tensor(target, dtype=torch.long, device=probs.device).reshape(-1)
    if index.numel() == 1:
        index = index.expand(batch)
    if index.shape != (batch,):
        raise ValueError(f"target must be one class index or one per clip ({batch}), got "
                         f"{index.numel()}")
    if bool(((index < 0) | (index >= num_classes)).any()):
        raise ValueError(f"target classes must be in 0..{num_classes - 1}, got {index.tolist()}")
    return index


def cam_from_gradients(activation: torch.Tensor, gradient: torch.Tensor,
                       mode: str = "per_frame") -> torch.Tensor:
    """ReLU(sum_c w_c A_c) with w the gradient averaged per `mode`: (B,C,T,h,w) -> (B,1,T,h,w)."""
    if mode == "per_frame":
        weights = gradient.mean(dim=(3, 4), keepdim=True)  # (B, C, T, 1, 1)
    elif mode == "per_clip":
        weights = gradient.mean(dim=(2, 3, 4), keepdim=True)  # (B, C, 1, 1, 1)
    else:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return F.relu((weights * activation).sum(dim=1, keepdim=True))  # (B, 1, T, h, w)


def feature_stride(cells: int, pixels: int) -> int | None:
    """The total stride between a feature axis of `cells` and an input axis of `pixels`: a power
    of two (each strided layer halves an axis, rounding up), or None if the sizes do not fit one."""
    if cells == pixels:
        return 1
    stride = 2 ** max(0, round(math.log2(pixels / cells)))
    return stride if -(-pixels // stride) == cells else None


def upsample(cam: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """(B, 1, t, h, w) -> (B, 1, T, H, W): linear along each axis, each cell on its own pixel.

    A convolution or pooling with an odd kernel k, padding k // 2 and stride s centres its output
    j on input j * s; through the stem and the stages, cell j of a map with total stride s is
    centred on pixel s * j, the first pixel of "its" s x s block, not the block's middle. Resizing
    as images are resized (`F.interpolate(align_corners=False)`) would put cell j on the middle,
    shifting the whole map (s - 1) / 2 pixels right and down: 3.5 pixels at res5 of a 64-pixel
    frame with stride 8, 15.5 at 224 with stride 32. Sizes that fit no such stride are resized
    the usual way.
    """
    for axis, pixels in zip((2, 3, 4), size):
        cells = cam.shape[axis]
        p = torch.arange(pixels, dtype=cam.dtype, device=cam.device)
        stride = feature_stride(cells, pixels)
        u = p / stride if stride else (p + 0.5) * cells / pixels - 0.5  # position in cells
        u = u.clamp(0, cells - 1)
        i0 = u.floor().long()
        i1 = (i0 + 1).clamp(max=cells - 1)
        w = (u - i0).view([-1 if d == axis else 1 for d in range(cam.dim())])
        cam = cam.index_select(axis, i0) * (1 - w) + cam.index_select(axis, i1) * w
    return cam


def upsample_and_normalize(cam: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """(B, 1, t, h, w) -> (B, 1, T, H, W), `upsample`d, min-max per clip; all-zero stays zero."""
    cam = upsample(cam, size)
    flat = cam.flatten(1)  # (B, T*H*W)
    low = flat.min(dim=1).values.view(-1, 1, 1, 1, 1)  # (B, 1, 1, 1, 1)
    span = flat.max(dim=1).values.view(-1, 1, 1, 1, 1) - low
    normed = (cam - low) / torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, normed, torch.zeros_like(cam)).clamp(0, 1)


@contextmanager
def layer_outputs(layers: dict[str, nn.Module]) -> Iterator[dict[str, torch.Tensor]]:
    """{name: the output of layer `name`}, filled by every forward pass inside the block."""
    features: dict[str, torch.Tensor] = {}
    hooks = [layer.register_forward_hook(
        lambda _m, _i, output, name=name: features.__setitem__(name, output))
        for name, layer in layers.items()]
    try:
        yield features
    finally:
        for hook in hooks:
            hook.remove()


def grad_cam(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
             target: Target = None, layers: dict[str, nn.Module] | None = None,
             mode: str = "per_frame", normalize: bool = True) -> dict[str, torch.Tensor]:
    """Grad-CAM per pathway, {"slow": (B, 1, T, H, W), ...} in [0, 1] (see the module docstring).

    `target`: None (the predicted class), a class index, or one per clip (e.g. the true labels).
    `layers`: {pathway: module} to look at (default `default_layers`); one map per entry.
    `normalize=False` returns the maps at the layers' own size, before upsampling (B, 1, t, h, w).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    clips = split_inputs(model, inputs)  # {pathway: (B, 3, T, H, W)}
    layers = default_layers(model) if layers is None else dict(layers)
    if set(layers) - set(clips):
        raise ValueError(f"layers must be keyed by pathway name ({', '.join(clips)}), got "
                         f"{', '.join(layers)}")
    with layer_outputs(layers) as features, evaluating(model), torch.enable_grad():
        # fresh leaves that need gradients, so the maps get them even if every weight is
        # frozen; the caller's tensors are left alone
        x = [clip.detach().requires_grad_(True) for clip in clips.values()]
        probs = model(x).softmax(dim=-1)  # (B, K)
        index = resolve_target(target, probs)  # (B,)
        # the clips of a batch do not interact in eval mode: one backward serves them all
        score = probs.gather(1, index[:, None]).sum()
        names = list(layers)
        if set(features) != set(names):
            raise ValueError(f"the layer(s) of {sorted(set(names) - set(features))} never ran "
                             f"in the forward pass; pass modules of this model")
        grads = torch.autograd.grad(score, [features[n] for n in names], allow_unused=True)
    cams = {}
    for name, grad in zip(names, grads):
        activation = features[name].detach()  # (B, C, t, h, w)
        if activation.dim() != 5:
            raise ValueError(f"the {name} layer gives a {activation.dim()}D output; Grad-CAM "
                             f"needs a (B, C, T, H, W) feature map")
        grad = torch.zeros_like(activation) if grad is None else grad
        cams[name] = cam_from_gradients(activation, grad, mode)  # (B, 1, t, h, w)
    if not normalize:
        return cams
    return {name: upsample_and_normalize(cam, clips[name].shape[2:]) for name, cam in cams.items()}


def mass_inside(cam: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fraction of each map's total mass inside `mask` (B,); a uniform map gives mask.mean()."""
    cam = cam.float()  # (B, 1, T, H, W)
    mask = torch.broadcast_to(mask.to(cam.device, torch.bool), cam.shape)
    total = cam.flatten(1).sum(dim=1)  # (B,)
    inside = (cam * mask).flatten(1).sum(dim=1)  # (B,)
    return torch.where(total > 0, inside / total.clamp_min(1e-12), torch.zeros_like(total))
