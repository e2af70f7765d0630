"""The knobs of a SlowFast network, in the paper's terms, in one frozen dataclass.

Every preset is a `SlowFastConfig`, and every ablation of the paper is a keyword override of one:
`build_model("slowfast_4x16_r50", beta_inv=16, fusion="time_strided_sample")`.

Each field is checked when the config is made, so that a wrong value stops there with its name,
its value and what is allowed, not later inside torch. Where the intent is plain, the value is
taken and a one-line warning says how: `alpha=4.0` is taken as 4, a list (from a YAML file) as a
tuple (silently: only the container differs). A string where a number belongs (`alpha="4"`) or a
fraction (`alpha=2.5`) is refused: those are guesses, not intents.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from .fast_input import FAST_INPUTS
from .fusion import FUSIONS
from .head import HEADS

ARCHS = ("slowfast", "slow", "fast")
STAGES = ("res2", "res3", "res4", "res5")
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
# FUSIONS, FAST_INPUTS and HEADS are the registries of fusion.py, fast_input.py and head.py: they
# list the names `fusion=`, `fast_input=` and `head=` accept, including any registered later


class ConfigError(ValueError, TypeError):
    """A config field whose type or value a network cannot be built with (a ValueError, or a
    TypeError where the type is wrong: catch either)."""


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
    slow_temporal_kernels: tuple[int | tuple[int, ...], ...] = (1, 1, 3, 3)  # conv "a" kernel
    #   per stage; a tuple is a pattern repeated over the stage's blocks: I3D's (3, 1) alternates
    fast_temporal_kernels: tuple[int | tuple[int, ...], ...] = (3, 3, 3, 3)
    slow_stem_kernel: int = 1  # temporal size of the stem's 7x7 conv
    fast_stem_kernel: int = 5
    res4_temporal_blocks: int | None = None  # only the first N res4 blocks keep conv "a"'s
    #                                          temporal kernel (the paper's R101: 6); None: all
    nonlocal_blocks: tuple[tuple[int, ...], ...] = ((), (), (), ())  # slow res2..res5: add a
    #                                          non-local block after these block indices
    pool1: bool = True  # the stem's max pooling; False: res2..res5 twice as fine (small frames)
    res2_temporal_pool: int = 1  # C2D and I3D max-pool this many frames into one after res2
    #                              ("pool2", stride = kernel); 1: none, as in SlowFast
    res5_dilation: int = 1  # 2: res5 keeps res4's H x W (spatial stride 1) and dilates its 3 x 3
    #                         convs by 2, as the paper's AVA detector does: twice as fine a map
    head: str = "classification"  # what the features become, see HEADS
    num_classes: int = 400
    dropout: float = 0.5
    crop_size: int = 224  # the training crop; the zoo's FLOPs are quoted at 256

    def __post_init__(self) -> None:
        checked = {name: check(name, getattr(self, name)) for name, check in _CHECKS.items()}
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # frozen: the checked (converted) value
        if self.stage_blocks is None and self.depth not in DEPTHS:
            raise ConfigError(f"depth must be 50 or 101 (or give stage_blocks), got {self.depth}")
        if self.res4_temporal_blocks is not None and self.res4_temporal_blocks > self.blocks[2]:
            raise ConfigError(f"res4_temporal_blocks must be at most the {self.blocks[2]} res4 "
                              f"blocks, got {self.res4_temporal_blocks}")
        if self.res2_temporal_pool > 1 and self.arch == "slowfast":
            raise ConfigError("res2_temporal_pool is for single-pathway networks (C2D, I3D): "
                              "SlowFast keeps every frame in both pathways, or the laterals "
                              "after res2 would not line up")
        for stage, indices, blocks in zip(STAGES, self.nonlocal_blocks, self.blocks):
            if any(not 0 <= i < blocks for i in indices):
                raise ConfigError(f"nonlocal_blocks for {stage} must index its {blocks} blocks, "
                                  f"got {indices}")

    @property
    def blocks(self) -> tuple[int, ...]:
        """Bottleneck blocks in res2..res5."""
        return self.stage_blocks if self.stage_blocks is not None else DEPTHS[self.depth]

    @property
    def fast_frames(self) -> int:
        """alpha * T: frames the Fast pathway sees."""
        return self.alpha * self.slow_frames


def config_fields() -> tuple[str, ...]:
    """The names that `build_model(..., **overrides)` accept."""
    return tuple(f.name for f in fields(SlowFastConfig))


# ---- the checks: each takes (field name, value) and returns the value to keep, or raises ----

def _say(message: str) -> None:
    """A one-line warning, reported at the caller's line (the first frame outside model code)."""
    ours = (os.path.dirname(__file__), dataclasses.__file__)
    frame, level = sys._getframe(1), 2
    while frame is not None and (frame.f_code.co_filename.startswith(ours) or (
            frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "__init__")):
        frame, level = frame.f_back, level + 1  # (the dataclass's generated __init__)
    warnings.warn(message, stacklevel=level)


def _integer(name: str, value: object, minimum: int = 1, odd: bool = False) -> int:
    what = f"an odd integer >= {minimum}" if odd else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be {what}, got {value!r} (a {type(value).__name__})"
                          + (f"; write {name}={value.strip()}" if _is_int_text(value) else ""))
    if not isinstance(value, numbers.Integral):
        if not float(value).is_integer():
            raise ConfigError(f"{name} must be {what}, got {value!r}: it is not a whole number")
        _say(f"SlowFastConfig: {name}={value!r} taken as {int(value)}")
    value = int(value)
    if value < minimum or (odd and value % 2 == 0):
        reason = ("even: padding k // 2 would change the frame count" if value >= minimum
                  else "too small")
        raise ConfigError(f"{name} must be {what}, got {value} ({reason})")
    return value


def _is_int_text(value: object) -> bool:
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _odd(name: str, value: object) -> int:
    return _integer(name, value, odd=True)


def _choice(choices) -> Callable:
    def check(name: str, value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}; "
                              f"got {value!r}")
        return value
    return check


def _is_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _per_stage(odd: bool = False, optional: bool = False, patterns: bool = False) -> Callable:
    """One integer per stage; with `patterns`, a tuple too, repeated over the stage's blocks."""
    def check(name: str, value: object) -> tuple | None:
        if value is None and optional:
            return None
        if not _is_sequence(value) or len(value) != 4:
            raise ConfigError(f"{name} needs one {'odd ' if odd else ''}integer per stage "
                              f"res2..res5 (4 in all), got {value!r}")
        return tuple(_pattern(f"{name}[{i}]", v, odd) if patterns and _is_sequence(v)
                     else _integer(f"{name}[{i}]", v, odd=odd) for i, v in enumerate(value))
    return check


def _pattern(name: str, value: Sequence, odd: bool) -> tuple[int, ...]:
    if not value:
        raise ConfigError(f"{name} must be an odd integer or a non-empty tuple of them (a pattern "
                          f"repeated over the blocks, e.g. (3, 1)), got {value!r}")
    return tuple(_integer(f"{name}[{j}]", v, odd=odd) for j, v in enumerate(value))


def _optional_count(name: str, value: object) -> int | None:
    return None if value is None else _integer(name, value, minimum=0)


def _nonlocal_blocks(name: str, value: object) -> tuple[tuple[int, ...], ...]:
    ok = (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 4
          and all(isinstance(v, Sequence) and not isinstance(v, str) for v in value))
    if not ok:
        raise ConfigError(f"{name} needs one tuple of block indices per stage res2..res5, e.g. "
                          f"((), (), (6, 13, 20), ()), got {value!r}")
    return tuple(tuple(_integer(f"{name}[{s}]", i, minimum=0) for i in v)
                 for s, v in enumerate(value))


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        _say(f"SlowFastConfig: {name}={value!r} taken as {bool(value)}")
        return bool(value)
    raise ConfigError(f"{name} must be True or False, got {value!r} (a {type(value).__name__})")


def _dropout(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def _res5_dilation(name: str, value: object) -> int:
    value = _integer(name, value)
    if value not in (1, 2):
        raise ConfigError(f"{name} must be 1 (stride 2, the default) or 2 (stride 1, dilation "
                          f"2), got {value}")
    return value


_CHECKS = {
    "arch": _choice(ARCHS), "depth": _integer, "stage_blocks": _per_stage(optional=True),
    "width": _integer, "alpha": _integer, "beta_inv": _integer, "slow_frames": _integer,
    "tau": _integer, "fusion": _choice(FUSIONS), "fusion_kernel": _odd,
    "fusion_ratio": _integer, "fast_input": _choice(FAST_INPUTS),
    "slow_temporal_kernels": _per_stage(odd=True, patterns=True),
    "fast_temporal_kernels": _per_stage(odd=True, patterns=True),
    "slow_stem_kernel": _odd, "fast_stem_kernel": _odd,
    "res4_temporal_blocks": _optional_count, "nonlocal_blocks": _nonlocal_blocks,
    "pool1": _flag, "res2_temporal_pool": _integer, "res5_dilation": _res5_dilation,
    "head": _choice(HEADS), "num_classes": _integer, "dropout": _dropout, "crop_size": _integer,
}
