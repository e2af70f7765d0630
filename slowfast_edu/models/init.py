"""Weight initialisation as in the reference implementations."""

from __future__ import annotations

from torch import nn


def init_weights(model: nn.Module, fc_std: float = 0.01) -> None:
    """Kaiming-normal convs (fan_out, ReLU), BN at 1/0 (0 for each block's last BN), fc N(0, 0.01)."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.constant_(m.weight, 0.0 if getattr(m, "is_final_bn", False) else 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=fc_std)
            nn.init.zeros_(m.bias)
