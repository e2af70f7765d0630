"""The knobs of a SlowFast network, in the paper's terms, in one frozen dataclass.

Every preset is a `SlowFastConfig`, and every ablation of the paper is a keyword override of one:
`build_model("slowfast_4x16_r50", beta_inv=16, fusion="time_strided_sample")`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

ARCHS = ("slowfast", "slow", "fast")
FUSIONS = (
    "time_strided_conv",  # the paper's default: a [k,1,1] conv with temporal stride alpha
    "time_strided_sample",  # keep one of every alpha fast frames
    "time_to_channel_sum",  # pack alpha frames into channels, add to the slow features
    "time_to_channel_concat",  # pack alpha frames into channels, concatenate
    "none",  # no lateral connection: the pathways meet only at the head
)
FAST_INPUTS = ("rgb", "gray", "time_diff", "half_res")
STAGES = ("res2", "res3", "res4", "res5")
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


@dataclass(frozen=True)
class SlowFastConfig:
    """Everything that defines a SlowFast, Slow-only or Fast-only network."""

    arch: str = "slowfast"  # "slowfast", "slow" (Slow-only) or "fast" (Fast-only)
    depth: int = 50  # ResNet depth: 50 -> blocks (3, 4, 6, 3), 101 -> (3, 4, 23, 3)
    stage_blocks: tuple[int, ...] | None = None  # bottlenecks per stage; overrides `depth`
    width: int = 64  # slow stem channels; res2..res5 bottlenecks are width*(1,2,4,8) wide
    alpha: int = 8  # speed ratio: the Fast pathway sees alpha times more frames
    beta_inv: int = 8  # channel ratio 1/beta: the Fast pathway is beta_inv times thinner
    slow_frames: int = 4  # T: frames the Slow pathway sees
    tau: int = 16  # temporal stride of the Slow pathway on the raw clip (at 30 fps)
    fusion: str = "time_strided_conv"  # lateral connection, see FUSIONS
    fusion_kernel: int = 5  # temporal kernel k of the time-strided convolution
    fusion_ratio: int = 2  # the time-strided conv outputs fusion_ratio * fast channels
    fast_input: str = "rgb"  # what the Fast pathway sees, see FAST_INPUTS
    slow_temporal_kernels: tuple[int, ...] = (1, 1, 3, 3)  # conv "a" kernel per stage
    fast_temporal_kernels: tuple[int, ...] = (3, 3, 3, 3)
    slow_stem_kernel: int = 1  # temporal size of the stem's 7x7 conv
    fast_stem_kernel: int = 5
    res4_temporal_blocks: int | None = None  # only the first N res4 blocks keep conv "a"'s
    #                                          temporal kernel (the paper's R101: 6); None: all
    nonlocal_blocks: tuple[tuple[int, ...], ...] = ((), (), (), ())  # slow res2..res5: add a
    #                                          non-local block after these block indices
    pool1: bool = True  # the stem's max pooling; False: res2..res5 twice as fine (small frames)
    res5_dilation: int = 1  # 2: res5 keeps res4's H x W (spatial stride 1) and dilates its 3 x 3
    #                         convs by 2, as the paper's AVA detector does: twice as fine a map
    num_classes: int = 400
    dropout: float = 0.5
    crop_size: int = 224  # the training crop; the zoo's FLOPs are quoted at 256

    def __post_init__(self) -> None:
        _check_choice("arch", self.arch, ARCHS)
        _check_choice("fusion", self.fusion, FUSIONS)
        _check_choice("fast_input", self.fast_input, FAST_INPUTS)
        if self.stage_blocks is None and self.depth not in DEPTHS:
            raise ValueError(f"depth must be 50 or 101 (or give stage_blocks), got {self.depth}")
        if self.res5_dilation not in (1, 2):
            raise ValueError(f"res5_dilation must be 1 (stride 2, the default) or 2 (stride 1, "
                             f"dilation 2), got {self.res5_dilation}")
        for name in ("alpha", "beta_inv", "slow_frames", "width", "fusion_kernel", "fusion_ratio"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("stage_blocks", "slow_temporal_kernels", "fast_temporal_kernels"):
            value = getattr(self, name)
            if value is not None and len(value) != 4:
                raise ValueError(f"{name} needs one entry per stage res2..res5, got {value}")
        if len(self.nonlocal_blocks) != 4:
            raise ValueError(f"nonlocal_blocks needs one tuple per stage res2..res5, got "
                             f"{self.nonlocal_blocks}")
        for stage, indices, blocks in zip(STAGES, self.nonlocal_blocks, self.blocks):
            if any(not 0 <= i < blocks for i in indices):
                raise ValueError(f"nonlocal_blocks for {stage} must index its {blocks} blocks, "
                                 f"got {indices}")

    @property
    def blocks(self) -> tuple[int, ...]:
        """Bottleneck blocks in res2..res5."""
        return tuple(self.stage_blocks) if self.stage_blocks is not None else DEPTHS[self.depth]

    @property
    def fast_frames(self) -> int:
        """alpha * T: frames the Fast pathway sees."""
        return self.alpha * self.slow_frames

    def fast_channels(self, slow_channels: int) -> int:
        """beta * C, rounded to the nearest integer (beta = 1/6 or 1/12 do not divide 64)."""
        return max(1, round(slow_channels / self.beta_inv))


def config_fields() -> tuple[str, ...]:
    """The names that `build_model(..., **overrides)` accepts."""
    return tuple(f.name for f in fields(SlowFastConfig))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
