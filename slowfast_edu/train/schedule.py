"""The learning-rate schedules: linear warm-up, then half a cosine to zero (the paper's Kinetics
recipe), or steps (PySlowFast's `steps_with_relative_lrs`, its AVA recipe).

Evaluated per iteration (fractional epochs), so a run stopped and resumed mid-epoch gets the same
rate at every step.
"""

from __future__ import annotations

import bisect
import math


def learning_rate(epoch: float, epochs: float, peak_lr: float, warmup_epochs: float = 0.0,
                  warmup_start_factor: float = 0.1, final_lr_factor: float = 0.0,
                  steps: list[float] | None = None,
                  relative_lrs: list[float] | None = None) -> float:
    """lr at fractional `epoch`: cosine from `peak_lr` (at 0) to `final_lr_factor * peak_lr`
    (at `epochs`), or, given `steps` (epochs, the first 0) and `relative_lrs` (one per step),
    `relative_lrs[i] * peak_lr` from `steps[i]` on; during warm-up, a line from
    `warmup_start_factor * peak_lr` to the schedule's rate at the warm-up's end."""
    final = final_lr_factor * peak_lr

    def scheduled(e: float) -> float:
        if steps is not None:
            return peak_lr * relative_lrs[bisect.bisect_right(steps, e) - 1]
        return final + (peak_lr - final) * (math.cos(math.pi * min(e, epochs) / epochs) + 1) / 2

    if epoch < warmup_epochs:
        start, end = warmup_start_factor * peak_lr, scheduled(warmup_epochs)
        return start + (end - start) * epoch / warmup_epochs
    return scheduled(epoch)
