"""Grad-CAM per pathway for one box's action: where each pathway looked to score what a person does.

A detector scores every box of a key frame (`model(inputs, boxes)` -> (K, num_actions), one
sigmoid per action). The score y here is the sigmoid probability of one action of one box; its
gradient with respect to a layer's feature maps weights the channels as in `gradcam.py`, and the
map is of the box's own clip (the clips of a batch do not interact in eval mode). At res5 the
gradient reaches only the cells RoIAlign sampled for the box, so the channel weights are those the
box's features asked for; the map itself covers the whole frame: it shows where, in the clip, the
channels that made this box's score are active, on the Slow frames and on the Fast frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .activations import evaluating, split_inputs
from .gradcam import (MODES, cam_from_gradients, default_layers, layer_outputs,
                      upsample_and_normalize)


def box_grad_cam(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
                 boxes: torch.Tensor, box: int = 0, action: int | None = None,
                 layers: dict[str, nn.Module] | None = None, mode: str = "per_frame",
                 normalize: bool = True) -> dict[str, torch.Tensor]:
    """Grad-CAM per pathway of action `action` (None: the box's top action) of row `box` of
    `boxes` (K, 5): {"slow": (1, 1, T, H, W), "fast": ...} in [0, 1], on the box's clip;
    `normalize=False` keeps the layers' own size (1, 1, t, h, w)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not getattr(model.head, "takes_boxes", False):
        raise ValueError("box_grad_cam needs a detector (a model with the RoI head, e.g. "
                         "slowfast_tiny_detection); for a classifier use grad_cam")
    if not 0 <= box < len(boxes):
        raise ValueError(f"box must be a row of boxes (0..{len(boxes) - 1}), got {box}")
    clips = split_inputs(model, inputs)  # {pathway: (B, 3, T, H, W)}
    clip = int(boxes[box, 0])
    layers = default_layers(model) if layers is None else dict(layers)
    with layer_outputs(layers) as features, evaluating(model), torch.enable_grad():
        x = [c.detach().requires_grad_(True) for c in clips.values()]
        probs = model.head.probabilities(model(x, boxes))  # (K, num_actions)
        if action is None:
            action = int(probs[box].argmax())
        if not 0 <= action < probs.shape[1]:
            raise ValueError(f"action must be in 0..{probs.shape[1] - 1}, got {action}")
        names = list(layers)
        grads = torch.autograd.grad(probs[box, action], [features[n] for n in names],
                                    allow_unused=True)
    cams = {}
    for name, grad in zip(names, grads):
        activation = features[name].detach()[clip:clip + 1]  # (1, C, t, h, w)
        grad = torch.zeros_like(activation) if grad is None else grad[clip:clip + 1]
        cams[name] = cam_from_gradients(activation, grad, mode)  # (1, 1, t, h, w)
    if not normalize:
        return cams
    return {name: upsample_and_normalize(cam, clips[name].shape[2:]) for name, cam in cams.items()}
