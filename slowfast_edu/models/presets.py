"""Named presets: the networks of the paper's tables, PyTorchVideo's hub, and small teaching models.

`build_model(name, num_classes=..., **overrides)` builds one (without `num_classes`, the preset's
own: 400 for Kinetics-400, 600 and 700 for the `_k600`/`_k700` presets, 80 for AVA); any field of
`SlowFastConfig` can be overridden, which is how the paper's ablations are built (`alpha=`,
`beta_inv=`, `fusion=`, ...).

A preset with published weights carries their metadata beside its config, as torchvision's weights
enums do: where the file and the class names come from, what they were trained on, the view the
network is tested at (`preset.geometry`, from `clip_geometry`) and the published accuracy, each
number with its source (the model zoo's own checkpoint and the paper's Table 2 differ slightly).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from torch import nn

from .baselines import C2D, EVERY_OTHER_FRAME, I3D, TWO_STREAM
from .config import SlowFastConfig, config_fields
from .detection import RoIHead  # noqa: F401  (registers the "detection" head the presets name)
from .geometry import ClipGeometry, clip_geometry
from .slowfast import build_network

ZOO_URL = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
CLASSNAMES_URL = ("https://dl.fbaipublicfiles.com/pyslowfast/dataset/class_names/"
                  "kinetics_classnames.json")
PYTORCHVIDEO_ZOO = "PyTorchVideo model zoo, 10 x 3 views"
PAPER_TABLE_2 = "the paper, Table 2 (Kinetics-400, 10 x 3 views)"
PAPER_TABLE_5A = "the paper, Table 5a (Kinetics-400 ablations, 10 x 3 views)"


@dataclass(frozen=True)
class Accuracy:
    """A published Kinetics-400 accuracy and where it is published."""

    top1: float  # %
    top5: float | None
    source: str

    def __str__(self) -> str:
        top5 = f" / {self.top5:.2f}" if self.top5 is not None else ""
        return f"{self.top1:.2f}{top5} ({self.source})"


@dataclass(frozen=True)
class PublishedWeights:
    """Published weights of a preset: the file, its class names, and what they score."""

    file: str  # file name in the model zoo (and in torch hub's cache, where PyTorchVideo puts it)
    accuracy: Accuracy  # of this very checkpoint
    base_url: str = ZOO_URL
    classnames_url: str = CLASSNAMES_URL  # PySlowFast's {name: id} JSON of the 400 classes
    label_map_file: str = "label_map_k400.txt"  # the same names one per line, also accepted
    dataset: str = "Kinetics-400"
    num_classes: int = 400
    layout: str = "pytorchvideo"  # the checkpoint's key names (see convert.py)
    mean: tuple[float, ...] = (0.45, 0.45, 0.45)  # input normalisation on [0, 1] pixels
    std: tuple[float, ...] = (0.225, 0.225, 0.225)

    @property
    def url(self) -> str:
        """Where the checkpoint is published."""
        return f"{self.base_url}/{self.file}"

    @property
    def classnames_files(self) -> tuple[str, str]:
        """File names the class names may have in a cache or a mirror: the JSON, the list."""
        return self.classnames_url.rsplit("/", 1)[-1], self.label_map_file


@dataclass(frozen=True)
class Preset:
    """A named network with where it comes from and its published numbers."""

    config: SlowFastConfig
    summary: str
    weights: PublishedWeights | None = None  # published weights we can load
    paper: Accuracy | None = None  # the paper's figure for this network

    @property
    def checkpoint(self) -> str | None:
        """File name of the published checkpoint, or None."""
        return self.weights.file if self.weights else None

    @property
    def top1(self) -> float | None:
        """Kinetics-400 top-1 (%) of the published checkpoint, else the paper's, else None."""
        accuracy = self.weights.accuracy if self.weights else self.paper
        return accuracy.top1 if accuracy else None

    @property
    def geometry(self) -> ClipGeometry:
        """The view the network is trained and tested at (frames, stride, crops)."""
        return clip_geometry(self.config)


def _zoo(file: str, top1: float, top5: float) -> PublishedWeights:
    return PublishedWeights(file, Accuracy(top1, top5, PYTORCHVIDEO_ZOO))


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
                                paper=Accuracy(75.6, 92.1, PAPER_TABLE_2)),
    "slowfast_8x8_r50": Preset(_R50_SLOWFAST_8X8, "SlowFast 8x8, R50 (alpha=4)",
                               _zoo("SLOWFAST_8x8_R50.pyth", 76.94, 92.69),
                               Accuracy(77.0, 92.6, PAPER_TABLE_2)),
    "slowfast_8x8_r101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **_R101_50_50),
                                "SlowFast 8x8, R101 as in the paper (R101_50_50)",
                                paper=Accuracy(77.9, 93.2, PAPER_TABLE_2)),
    "slowfast_8x8_r101_101_101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **_R101),
                                        "SlowFast 8x8, R101 with temporal kernels in all res4 "
                                        "blocks (PyTorchVideo hub slowfast_r101)",
                                        _zoo("SLOWFAST_8x8_R101.pyth", 77.90, 93.27)),
    "slowfast_16x8_r101": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, slow_frames=16,
                                                     **_R101_50_50),
                                 "SlowFast 16x8, R101 (R101_50_50)",
                                 _zoo("SLOWFAST_16x8_R101_50_50.pyth", 78.70, 93.61),
                                 Accuracy(78.9, 93.5, PAPER_TABLE_2)),
    "slowfast_16x8_r101_nl": Preset(dataclasses.replace(
        _R50_SLOWFAST_8X8, slow_frames=16, nonlocal_blocks=((), (), (6, 13, 20), ()),
        **_R101_50_50), "SlowFast 16x8, R101 + non-local blocks in Slow res4",
        paper=Accuracy(79.8, 93.9, PAPER_TABLE_2)),
    "slow_4x16_r50": Preset(dataclasses.replace(_R50_SLOWFAST_4X16, arch="slow"),
                            "Slow-only 4x16, R50", paper=Accuracy(72.6, 90.3, PAPER_TABLE_5A)),
    "slow_8x8_r50": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, arch="slow"),
                           "Slow-only 8x8, R50", _zoo("SLOW_8x8_R50.pyth", 74.58, 91.63)),
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


# the networks the paper compares with, from the same blocks (baselines.py)
PRESETS.update({
    "c2d_r50": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **C2D),
                      "C2D 8x8, R50: 2D convolutions only, pool over time after res2 "
                      "(PyTorchVideo hub c2d_r50)", _zoo("C2D_8x8_R50.pyth", 71.46, 89.68)),
    "i3d_r50": Preset(dataclasses.replace(_R50_SLOWFAST_8X8, **I3D),
                      "I3D 8x8, R50: C2D with inflated 3D kernels (PyTorchVideo hub i3d_r50)",
                      _zoo("I3D_8x8_R50.pyth", 73.27, 90.70)),
    "c2d_tiny": Preset(SlowFastConfig(**{**_TINY, **C2D, **EVERY_OTHER_FRAME}),
                       "teaching C2D: slowfast_tiny's blocks, all 2D, 8 frames"),
    "i3d_tiny": Preset(SlowFastConfig(**{**_TINY, **I3D, **EVERY_OTHER_FRAME}),
                       "teaching I3D: slowfast_tiny's blocks, inflated, 8 frames"),
    "two_stream_tiny": Preset(SlowFastConfig(**_TINY, **TWO_STREAM),
                              "teaching two-stream: a 2D RGB stream and a Fast-sized motion "
                              "stream on frame differences, fused at the head"),
})

# Kinetics-600 and -700: the same networks with 600 and 700 classes (names: the label maps,
# alphabetical like Kinetics-400's; e.g. ../shared/kinetics/label_map_k600.txt)
KINETICS_CLASSES = {"k600": 600, "k700": 700}
for _base in ("slowfast_8x8_r50", "slowfast_16x8_r101"):
    for _dataset, _classes in KINETICS_CLASSES.items():
        PRESETS[f"{_base}_{_dataset}"] = Preset(
            dataclasses.replace(PRESETS[_base].config, num_classes=_classes),
            f"{PRESETS[_base].summary}, Kinetics-{_dataset[1:]} head ({_classes} classes)")


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
