"""The learning-rate schedule of the paper's recipe: linear warm-up, then half a cosine to zero.

Evaluated per iteration (fractional epochs), so a run stopped and resumed mid-epoch gets the same
rate at every step.
"""

from __future__ import annotations

import math


def learning_rate(epoch: float, epochs: float, peak_lr: float, warmup_epochs: float = 0.0,
                  warmup_start_factor: float = 0.1, final_lr_factor: float = 0.0) -> float:
    """lr at fractional `epoch`: cosine from `peak_lr` (at 0) to `final_lr_factor * peak_lr`
    (at `epochs`); during warm-up, a line from `warmup_start_factor * peak_lr` to the cosine."""
    final = final_lr_factor * peak_lr

    def cosine(e: float) -> float:
        return final + (peak_lr - final) * (math.cos(math.pi * min(e, epochs) / epochs) + 1) / 2

    if epoch < warmup_epochs:
        start, end = warmup_start_factor * peak_lr, cosine(warmup_epochs)
        return start + (end - start) * epoch / warmup_epochs
    return cosine(epoch)
