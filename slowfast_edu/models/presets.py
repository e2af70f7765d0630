"""Named presets: the networks of the paper's tables, PyTorchVideo's hub, and small teaching models.

`build_model(name, num_classes=..., **overrides)` builds one (without `num_classes`, the preset's
own: 400 for Kinetics, 80 for AVA); any field of `SlowFastConfig` can be overridden, which is how
the paper's ablations are built (`alpha=`, `beta_inv=`, `fusion=`, ...).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from torch import nn

from .config import SlowFastConfig, config_fields
from .detection import RoIHead  # noqa: F401  (registers the "detection" head the presets name)
from .slowfast import build_network


@dataclass(frozen=True)
class Preset:
    """A named network with where it comes from and its published numbers."""

    config: SlowFastConfig
    summary: str
    checkpoint: str | None = None  # file name in the PyTorchVideo Kinetics-400 model zoo
    top1: float | None = None  # Kinetics-400 top-1 (%) of that checkpoint, 30-view testing


_R50_SLOWFAST_4X16 = SlowFastConfig(alpha=8, slow_frames=4, tau=16, fusion_kernel=5)
_R50_SLOWFAST_8X8 = SlowFastConfig(alpha=4, slow_frames=8, tau=8, fusion_kernel=7)
_R101 = dict(depth=101, fusion_kernel=5)
# the paper's R101 keeps temporal kernels only in the first 6 res4 blocks ("R101_50_50")
_R101_50_50 = dict(_R101, res4_temporal_blocks=6)
# teaching size: one bottleneck per stage, half the width; same structure otherwise, but res5 as
# in the paper's AVA detector (stride 1, dilation 2): on 48-64 px frames a stride-2 res5 would
# leave a 2 x 2 map, too coarse to keep where things are (the lesson's SlowFast: 88% -> 100%)
_TINY = dict(stage_blocks=(1, 1, 1, 1), width=32, alpha=4, beta_inv=8, slow_frames=4, tau=4,
             fusion_kernel=5, crop_size=64, res5_dilation=2)
# the paper's AVA detector (Section 5): res5 at stride 1 with dilation 2, the RoI head
# (detection.py) and AVA's 80 classes; as PyTorchVideo's slowfast_r50_detection and
# slow_r50_detection
_DETECTION = dict(res5_dilation=2, head="detection", num_classes=80)
# the teaching detector: the tiny backbone (res5 at 1/16, 4 x 4 cells at 64 px, which RoIAlign
# samples between cells) with the RoI head, for the 3 actions of the synthetic detection set
_TINY_DETECTION = dict(_TINY, head="detection", num_classes=3)

PRESETS: dict[str, Preset] = {
    "slowfast_4x16_r50": Preset(_R50_SLOWFAST_4X16, "SlowFast 4x16, R50 (alpha=8)",
                                top1=75.6),
    "slowfast_8x8_r50": Preset(_R50_SLOWFAST_8X8, "SlowFast 8x8, R50 (alpha=4)",
                               "SLOWFAST_8x8_R50.pyth", 76.94),
    "slowfast_8x8_r101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **_R101_50_50),
                                "SlowFast 8x8, R101 as in the paper (R101_50_50)", top1=77.9),
    "slowfast_8x8_r101_101_101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **_R101),
                                        "SlowFast 8x8, R101 with temporal kernels in all res4 "
                                        "blocks (PyTorchVideo hub slowfast_r101)",
                                        "SLOWFAST_8x8_R101.pyth", 77.90),
    "slowfast_16x8_r101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, slow_frames=16,
                                                     **_R101_50_50),
                                 "SlowFast 16x8, R101 (R101_50_50)",
                                 "SLOWFAST_16x8_R101_50_50.pyth", 78.70),
    "slowfast_16x8_r101_nl": Preset(dataclasses.replace(
        _R50_SLOWFAST_8X8, slow_frames=16, nonlocal_blocks=((), (), (6, 13, 20), ()),
        **_R101_50_50), "SlowFast 16x8, R101 + non-local blocks in Slow res4", top1=79.8),
    "slow_4x16_r50": Preset(dataclasses.replace(_R50_SLOWFAST_4X16, arch="slow"),
                            "Slow-only 4x16, R50", top1=72.6),
    "slow_8x8_r50": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, arch="slow"),
                           "Slow-only 8x8, R50", "SLOW_8x8_R50.pyth", 74.58),
    "fast_4x16_r50": Preset(dataclasses.replace(_R50_SLOWFAST_4X16, arch="fast"),
                            "Fast-only, R50 (32 frames at stride 2, beta=1/8)"),
    "slowfast_tiny": Preset(SlowFastConfig(**_TINY), "teaching SlowFast: 1 block per stage, "
                            "width 32, alpha=4, beta=1/8; trains on a laptop CPU"),
    "slow_tiny": Preset(SlowFastConfig(arch="slow", **_TINY), "teaching Slow-only"),
    "fast_tiny": Preset(SlowFastConfig(arch="fast", **_TINY), "teaching Fast-only"),
    "slowfast_8x8_r50_detection": Preset(
        dataclasses.replace(_R50_SLOWFAST_8X8, **_DETECTION),
        "SlowFast 8x8, R50 action detector for AVA (PyTorchVideo slowfast_r50_detection, "
        "zoo file ava/SLOWFAST_8x8_R50_DETECTION.pyth)"),
    "slow_4x16_r50_detection": Preset(
        dataclasses.replace(_R50_SLOWFAST_4X16, arch="slow", **_DETECTION),
        "Slow-only 4x16, R50 action detector for AVA (PyTorchVideo slow_r50_detection, "
        "zoo file ava/SLOW_4x16_R50_DETECTION.pyth)"),
    "slow_8x8_r50_detection": Preset(
        dataclasses.replace(_R50_SLOWFAST_8X8, arch="slow", **_DETECTION),
        "Slow-only 8x8, R50 action detector (slow_4x16_r50_detection's network fed 8 frames)"),
    "slowfast_tiny_detection": Preset(SlowFastConfig(**_TINY_DETECTION),
                                      "teaching SlowFast detector (slowfast_tiny with the RoI "
                                      "head), for the synthetic detection set"),
    "slow_tiny_detection": Preset(SlowFastConfig(arch="slow", **_TINY_DETECTION),
                                  "teaching Slow-only detector"),
}


def list_models() -> list[str]:
    """The preset names `build_model` accepts."""
    return list(PRESETS)


# `num_classes` not given: the preset's own (None is a value, refused by the config's check)
_PRESET_CLASSES = object()


def get_config(name: str, num_classes: int = _PRESET_CLASSES, **overrides) -> SlowFastConfig:
    """The configuration of preset `name` with `overrides` applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(PRESETS)}")
    unknown = set(overrides) - set(config_fields())
    if unknown:
        raise TypeError(f"unknown override(s) {', '.join(sorted(unknown))} for {name}; valid "
                        f"ones: {', '.join(config_fields())}")
    if num_classes is not _PRESET_CLASSES:
        overrides["num_classes"] = num_classes
    return dataclasses.replace(PRESETS[name].config, **overrides)


def build_model(name: str, num_classes: int = _PRESET_CLASSES, **overrides) -> nn.Module:
    """Build preset `name`, e.g. `build_model("slowfast_4x16_r50", alpha=4, fusion="none")`."""
    return build_network(get_config(name, num_classes, **overrides))
