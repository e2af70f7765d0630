"""Measure the reference models' parameters and GFLOPs: the source of test_presets.py's numbers.

PyTorchVideo 0.1.5 (test-only) builds each preset's reference network on the "meta" device (no
memory, no compute); torch's FlopCounterMode counts its convolutions and linear layers, halved to
multiply-adds as the paper counts FLOPs; batch 1, 400 classes. Run from the repository root:

    PYTHONPATH=. .venv/bin/python -m tests.models.reference_numbers

It prints each number beside the one test_presets.py asserts for our presets (about 20 s on 2
cores). The paper's R101 8x8 (R101_50_50) is PyTorchVideo's `slowfast_16x8_r101_50_50` fed 8 + 32
frames, Slow-only 4x16 its `slow_r50` fed 4 frames: same layers, fewer frames.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from .test_presets import GFLOPS_224, GFLOPS_256, PARAMS

# our preset: (PyTorchVideo builder, Slow frames, alpha; None for a Slow-only model)
REFERENCES = {
    "slowfast_4x16_r50": ("create_slowfast_4x16", 4, 8),
    "slowfast_8x8_r50": ("slowfast_r50", 8, 4),
    "slowfast_8x8_r101": ("slowfast_16x8_r101_50_50", 8, 4),
    "slowfast_8x8_r101_101_101": ("slowfast_r101", 8, 4),
    "slowfast_16x8_r101": ("slowfast_16x8_r101_50_50", 16, 4),
    "slow_4x16_r50": ("slow_r50", 4, None),
    "slow_8x8_r50": ("slow_r50", 8, None),
}


def _builder(name: str):
    from pytorchvideo.models import hub
    from pytorchvideo.models.slowfast import create_slowfast

    if name == "create_slowfast_4x16":  # the hub has no 4x16: its builder with Table 1's numbers
        return lambda: create_slowfast(slowfast_fusion_conv_kernel_size=(5, 1, 1),
                                       slowfast_fusion_conv_stride=(8, 1, 1),
                                       head_pool_kernel_sizes=((4, 7, 7), (32, 7, 7)))
    return getattr(hub, name)


def measure(preset: str) -> dict[str, float]:
    """{"params": ..., "gflops_224": ..., "gflops_256": ...} of `preset`'s reference network."""
    builder, frames, alpha = REFERENCES[preset]
    with torch.device("meta"):
        model = _builder(builder)().eval()
    result: dict[str, float] = {"params": sum(p.numel() for p in model.parameters())}
    for size in (224, 256):
        clips = [torch.empty(1, 3, frames, size, size, device="meta")]
        if alpha is not None:
            clips.append(torch.empty(1, 3, frames * alpha, size, size, device="meta"))
        pools = [m for m in model.modules() if isinstance(m, torch.nn.AvgPool3d)]
        for pool, clip in zip(pools, clips):  # the head's pooling window covers the whole map
            pool.kernel_size = (clip.shape[2], size // 32, size // 32)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(clips if alpha is not None else clips[0])  # a fresh list: it is overwritten
        result[f"gflops_{size}"] = counter.get_total_flops() / 2 / 1e9
    return result


def main() -> None:
    """Print the reference numbers beside test_presets.py's."""
    print(f"{'preset':28s} {'params':>12s} {'(test)':>12s} {'GFLOPs@224':>11s} {'(test)':>7s} "
          f"{'GFLOPs@256':>11s} {'(test)':>7s}")
    for preset in REFERENCES:
        r = measure(preset)
        print(f"{preset:28s} {r['params']:12,d} {PARAMS[preset]:12,d} {r['gflops_224']:11.2f} "
              f"{GFLOPS_224[preset]:7.2f} {r['gflops_256']:11.2f} {GFLOPS_256[preset]:7.2f}")


if __name__ == "__main__":
    main()
