"""The optimizer of the paper's recipe: SGD with Nesterov momentum and weight decay on the
convolution and linear weights only (none on BN parameters and biases)."""

from __future__ import annotations

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: weights with decay; BN parameters and biases without."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            is_norm = isinstance(module, nn.modules.batchnorm._BatchNorm)
            (no_decay if is_norm or name == "bias" else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, lr: float, momentum: float = 0.9, nesterov: bool = True,
                    weight_decay: float = 1e-4) -> torch.optim.SGD:
    """SGD as in PySlowFast; `lr` is overwritten every step by the schedule."""
    return torch.optim.SGD(parameter_groups(model, weight_decay), lr=lr, momentum=momentum,
                           nesterov=nesterov)


def scaled_lr(base_lr: float, batch_size: int, reference_batch: int = 64) -> float:
    """Linear scaling: `base_lr` is right for `reference_batch` clips; scale to the real batch."""
    return base_lr * batch_size / reference_batch
