"""Weight initialisation as in the reference implementations."""

from __future__ import annotations

from torch import nn


def init_weights(model: nn.Module, fc_std: float = 0.01) -> None:
    """Kaiming-normal convs (fan_out, ReLU), linear layers N(0, fc_std) with zero bias.

    BatchNorms keep the values they are built with: gamma 1 and beta 0, except the last BN of each
    bottleneck and of each non-local block, which its block zero-initialises (resnet.py).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=fc_std)
            nn.init.zeros_(m.bias)
