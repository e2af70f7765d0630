"""Checks of the lateral-connection exercises: time-to-channel, time-strided sampling and
convolution (notebook 03), and a lateral's parameter count (notebook 09)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..models import count_params
from ..models.fusion import TimeStridedConv, TimeStridedSample, TimeToChannel
from .common import diagnose, exercise_check, fail, listed, own, run_student, same
from .modules import check_module, randomise_norms


def _fast_features(alpha: int, t: int, c: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, c, alpha * t, 3, 2, generator=g)  # (B, beta*C, alpha*T, H, W)


TRANSFORM_SETTINGS = [(4, 4, 8), (8, 2, 4), (2, 3, 6), (5, 2, 3)]  # (alpha, T, beta*C)


def _check_transform(fn: Callable, name: str, reference: Callable, forbid: list,
                     mistakes: Callable[[torch.Tensor, int], list],
                     shape_hint: Callable[[tuple, tuple], str]) -> None:
    for i, (alpha, t, c) in enumerate(TRANSFORM_SETTINGS):
        fast = _fast_features(alpha, t, c, i).requires_grad_(True)
        setting = f"alpha={alpha} on Fast features of shape {tuple(fast.shape)}"
        got = run_student(fn, (fast, alpha), name, forbid, setting=setting)
        want = reference(fast.detach(), alpha)
        if not isinstance(got, torch.Tensor):
            raise fail(f"{name} returned {type(got).__name__} for {setting}", "return a tensor")
        if got.shape != want.shape:
            raise fail(f"{name}, {setting} (a setting the exercise did not show): shape "
                       f"{tuple(got.shape)}, expected {tuple(want.shape)}",
                       shape_hint(tuple(got.shape), tuple(want.shape)))
        if not same(got, want):
            hint = diagnose(got, mistakes(fast.detach(), alpha))
            raise fail(f"{name}, {setting}: the right shape, other values", hint)
        if not got.requires_grad:
            raise fail(f"{name}: the result has no gradient", "use tensor operations only "
                       "(no .detach(), .numpy() or torch.tensor(...) of the result)")


def _ttoc(fast: torch.Tensor, alpha: int) -> torch.Tensor:
    return TimeToChannel(fast.shape[1], alpha).transform(fast)


@exercise_check("time_to_channel", library=lambda: [TimeToChannel(8, 4).transform], wrong=[
    ("def time_to_channel(fast, alpha):\n"
     "    b, c, t, h, w = fast.shape\n"
     "    return fast.reshape(b, c * alpha, t // alpha, h, w)", "reshape alone"),
    ("def time_to_channel(fast, alpha):\n"
     "    b, c, t, h, w = fast.shape\n"
     "    x = fast.reshape(b, c, alpha, t // alpha, h, w).permute(0, 2, 1, 3, 4, 5)\n"
     "    return x.reshape(b, alpha * c, t // alpha, h, w)", "(T, alpha)"),
    ("def time_to_channel(fast, alpha):\n"
     "    return fast[:, :, ::alpha]", "alpha*beta*C"),
])
def check_time_to_channel(time_to_channel: Callable) -> None:
    """Exercise 03.1: time-to-channel, on alphas, lengths and widths the notebook did not use."""
    name = "time_to_channel"
    own(time_to_channel, name)

    def mistakes(fast: torch.Tensor, alpha: int) -> list:
        b, c, frames, h, w = fast.shape
        t = frames // alpha
        return [
            ("reshape alone mixes channels and frames the wrong way: split time into "
             "(T, alpha), move the alpha axis in front of the channels with permute, then merge",
             lambda: fast.reshape(b, c * alpha, t, h, w)),
            ("Slow step t packs Fast frames alpha*t .. alpha*t + alpha - 1: split time as "
             "(T, alpha), not (alpha, T)",
             lambda: fast.reshape(b, c, alpha, t, h, w).permute(0, 2, 1, 3, 4, 5).reshape(
                 b, alpha * c, t, h, w)),
            ("channel j*beta*C + c holds channel c of Fast frame alpha*t + j: the alpha axis "
             "goes in front of the channel axis",
             lambda: fast.reshape(b, c, t, alpha, h, w).permute(0, 1, 3, 2, 4, 5).reshape(
                 b, c * alpha, t, h, w)),
        ]

    def shape_hint(got: tuple, want: tuple) -> str:
        return ("(B, beta*C, alpha*T, H, W) -> (B, alpha*beta*C, T, H, W): alpha times the "
                "channels, 1/alpha of the frames")

    _check_transform(time_to_channel, name, _ttoc, [TimeToChannel], mistakes, shape_hint)
    print(f"✓ {name}: the library's layout on {len(TRANSFORM_SETTINGS)} settings")


@exercise_check("time_strided_sample", library=lambda: [TimeStridedSample(8, 4).transform],
                wrong=[
    ("def time_strided_sample(fast, alpha):\n"
     "    return fast[:, :, alpha - 1::alpha]", "first of every"),
    ("def time_strided_sample(fast, alpha):\n"
     "    return fast[:, ::alpha]", "dim 2"),
    ("def time_strided_sample(fast, alpha):\n"
     "    return fast[:, :, : fast.shape[2] // alpha]", "whole clip"),
])
def check_time_strided_sample(time_strided_sample: Callable) -> None:
    """Exercise 03.2: time-strided sampling."""
    name = "time_strided_sample"
    own(time_strided_sample, name)

    def mistakes(fast: torch.Tensor, alpha: int) -> list:
        t = fast.shape[2] // alpha
        return [
            ("keep the first of every alpha frames: 0, alpha, 2*alpha, ...",
             lambda: fast[:, :, alpha - 1::alpha]),
            ("one of every alpha frames over the whole clip, not the first T frames",
             lambda: fast[:, :, :t]),
            ("T-sample keeps frames 0, alpha, 2*alpha, ... (pack_pathways' linspace is how the "
             "Slow clip is sampled, not this lateral)",
             lambda: fast[:, :, torch.linspace(0, fast.shape[2] - 1, t).long()]),
        ]

    def shape_hint(got: tuple, want: tuple) -> str:
        return ("time is dim 2 of (B, C, T, H, W): keep T = alpha*T / alpha frames, all "
                "channels")

    _check_transform(time_strided_sample, name,
                     lambda fast, alpha: TimeStridedSample(fast.shape[1], alpha).transform(fast),
                     [TimeStridedSample], mistakes, shape_hint)
    print(f"✓ {name}: right on {len(TRANSFORM_SETTINGS)} settings")


TCONV_SETTINGS = [dict(fast_channels=8, alpha=4, kernel=5),
                  dict(fast_channels=4, alpha=8, kernel=7),
                  dict(fast_channels=6, alpha=2, kernel=3, ratio=1),
                  dict(fast_channels=16, alpha=4, kernel=5)]


def _tconv_parameter_hints(got: dict, want: dict) -> str | None:
    weight, expected = got.get("conv.weight"), want["conv.weight"]
    if weight is None:
        return "name the convolution conv and the batch norm bn"
    if weight[0] != expected[0]:
        return "the convolution has ratio * fast_channels outputs (2 beta C for ratio 2)"
    if weight[2:] != expected[2:]:
        return "the kernel is (kernel, 1, 1): temporal only"
    return None


def _tconv_variants(ref: TimeStridedConv, fast: torch.Tensor) -> list:
    return [
        ("ReLU after the batch norm, not before: relu(bn(conv(x)))",
         lambda: ref.bn(ref.relu(ref.conv(fast)))),
        ("a ReLU follows the batch norm", lambda: ref.bn(ref.conv(fast))),
        ("the output is relu(bn(conv(fast))), nothing else", lambda: F.relu(ref.conv(fast))),
    ]


def _tconv_shape_hint(got: tuple, want: tuple) -> str | None:
    if got[2] != want[2]:
        return ("stride (alpha, 1, 1) and padding (kernel // 2, 0, 0): alpha*T frames in, T out")
    return None


@exercise_check("MyTimeStridedConv", library=lambda: [TimeStridedConv], wrong=[
    ("class MyTimeStridedConv(TimeStridedConv):\n    pass\n", "library's own"),
    ("class MyTimeStridedConv(nn.Module):\n"
     "    def __init__(self, fast_channels, alpha, kernel=5, ratio=2):\n"
     "        super().__init__()\n"
     "        self.conv = nn.Conv3d(fast_channels, ratio * fast_channels, (kernel, 1, 1),\n"
     "                              padding=(kernel // 2, 0, 0), bias=False)\n"
     "        self.bn = nn.BatchNorm3d(ratio * fast_channels)\n"
     "        self.relu = nn.ReLU()\n"
     "    def forward(self, fast):\n"
     "        return self.relu(self.bn(self.conv(fast)))\n", "stride (alpha, 1, 1)"),
    ("class MyTimeStridedConv(nn.Module):\n"
     "    def __init__(self, fast_channels, alpha, kernel=5, ratio=2):\n"
     "        super().__init__()\n"
     "        self.conv = nn.Conv3d(fast_channels, ratio * fast_channels, (kernel, 1, 1),\n"
     "                              stride=(alpha, 1, 1), padding=(kernel // 2, 0, 0))\n"
     "        self.bn = nn.BatchNorm3d(ratio * fast_channels)\n"
     "    def forward(self, fast):\n"
     "        return self.bn(self.conv(fast))\n", "bias"),
])
def check_time_strided_conv(MyTimeStridedConv: type) -> None:  # noqa: N803
    """Exercise 03.3: the time-strided convolution, on widths, alphas and kernels not shown."""
    name = "MyTimeStridedConv"
    own(MyTimeStridedConv, name)
    for i, args in enumerate(TCONV_SETTINGS):
        reference = randomise_norms(TimeStridedConv(**args), seed=i)
        fast = _fast_features(args["alpha"], 4, args["fast_channels"], 20 + i)
        check_module(MyTimeStridedConv, reference, args, (fast,), name, [TimeStridedConv],
                     _tconv_parameter_hints, lambda ref: _tconv_variants(ref, fast),
                     _tconv_shape_hint, forward=lambda module, x: module.transform(x))
    print(f"✓ {name}: the library's parameters, outputs and gradients on "
          f"{len(TCONV_SETTINGS)} settings")


LATERAL_SETTINGS = [(16, 5, 2), (32, 7, 2), (8, 5, 1), (64, 3, 2), (4, 5, 2)]


@exercise_check("lateral_params", library=lambda: [count_params], subclass=False, wrong=[
    ("def lateral_params(fast_channels, kernel, ratio=2):\n"
     "    return fast_channels * ratio * fast_channels * kernel", "batch norm"),
    ("def lateral_params(fast_channels, kernel, ratio=2):\n"
     "    out = ratio * fast_channels\n"
     "    return fast_channels * out * kernel + out + 2 * out", "bias"),
    ("def lateral_params(fast_channels, kernel, ratio=2):\n"
     "    return 2624", "every lateral"),
])
def check_lateral_params(lateral_params: Callable) -> None:
    """Exercise 09.1: the parameters of a T-conv lateral connection."""
    name = "lateral_params"
    own(lateral_params, name)
    for c, kernel, ratio in LATERAL_SETTINGS:
        setting = f"fast_channels={c}, kernel={kernel}, ratio={ratio}"
        got = run_student(lateral_params, (c, kernel, ratio), name,
                          [count_params, TimeStridedConv], setting=setting)
        want = count_params(TimeStridedConv(c, alpha=4, kernel=kernel, ratio=ratio))
        if same(got, want):
            continue
        out = ratio * c
        hint = diagnose(got, [
            ("the batch norm has 2 parameters per output channel", lambda: want - 2 * out),
            ("the convolution has no bias (a batch norm follows it)", lambda: want + out),
            ("the batch norm's running statistics are buffers, not parameters",
             lambda: want + 2 * out),
            ("the convolution has ratio * fast_channels outputs", lambda: c * c * kernel + 2 * c),
            ("the kernel is kernel x 1 x 1: kernel weights per pair of channels",
             lambda: c * out * kernel * kernel + 2 * out),
        ])
        if hint is None and same(got, count_params(TimeStridedConv(16, 4, 5, 2))):
            hint = ("that is the res2 lateral's count for every lateral: compute it from "
                    "fast_channels, kernel and ratio")
        raise fail(f"{name}({c}, {kernel}, {ratio}) (a lateral the exercise did not show) = "
                   f"{listed(got)}, the lateral has {want:,d}", hint)
    print(f"✓ {name}: right on {len(LATERAL_SETTINGS)} lateral connections")

