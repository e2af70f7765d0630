"""Checks of the baselines exercises (notebook 12): inflating a 2D kernel into 3D, as I3D starts
from 2D weights, and counting a convolution's multiply-adds, to count what I3D pays over C2D."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..models import count_flops
from ..models.baselines import inflate_from, inflate_kernel
from .common import diagnose, exercise_check, fail, listed, own, run_student, same

INFLATE_SETTINGS = [(4, 3, (3, 3), 3), (2, 5, (1, 1), 3), (6, 2, (7, 7), 5), (3, 1, (3, 5), 1)]


@exercise_check("inflate", library=lambda: [inflate_kernel], subclass=False, wrong=[
    ("def inflate(weight, temporal_size):\n"
     "    return weight.unsqueeze(2).repeat(1, 1, temporal_size, 1, 1)", "divide"),
    ("def inflate(weight, temporal_size):\n"
     "    return weight.unsqueeze(2)", "temporal_size frames"),
    ("def inflate(weight, temporal_size):\n"
     "    w = torch.zeros(*weight.shape[:2], temporal_size, *weight.shape[2:])\n"
     "    w[:, :, temporal_size // 2] = weight\n"
     "    return w", "centre"),
])
def check_inflate(inflate: Callable) -> None:
    """Exercise 12.1: a 2D kernel (O, I, kH, kW) as a 3D one (O, I, kT, kH, kW) that answers a
    still clip as the 2D kernel does, on shapes the notebook did not use."""
    name = "inflate"
    own(inflate, name)
    for i, (out_ch, in_ch, (kh, kw), kt) in enumerate(INFLATE_SETTINGS):
        weight = torch.randn(out_ch, in_ch, kh, kw, generator=torch.Generator().manual_seed(i))
        setting = f"a {out_ch}x{in_ch}x{kh}x{kw} kernel, temporal_size={kt}"
        got = run_student(inflate, (weight.clone(), kt), name, [inflate_kernel, inflate_from],
                          setting=setting)
        want = inflate_kernel(weight, kt)
        if not isinstance(got, torch.Tensor):
            raise fail(f"{name} returned {type(got).__name__} for {setting}", "return a tensor")
        if got.shape != want.shape:
            hint = ("the 3D kernel spans temporal_size frames: (O, I, kT, kH, kW)"
                    if got.dim() == 5 else "insert the time axis after the channels: "
                    "(O, I, kT, kH, kW)")
            raise fail(f"{name}, {setting} (a setting the exercise did not show): shape "
                       f"{tuple(got.shape)}, expected {tuple(want.shape)}", hint)
        if same(got, want):
            continue
        centred = torch.zeros_like(want)
        centred[:, :, kt // 2] = weight
        hint = diagnose(got, [
            ("a still clip sums the kernel over its kT frames: divide the copies by "
             "temporal_size, or the output is temporal_size times the 2D one",
             lambda: want * kt),
            ("putting the 2D kernel at the centre frame also answers a still clip as the 2D "
             "kernel does, but I3D copies it to every frame (and divides by temporal_size)",
             lambda: centred),
        ])
        raise fail(f"{name}, {setting}: the right shape, other values", hint)
    # what the copies are for: a still clip gives the 2D output (away from the zero padding)
    still = torch.randn(1, 2, 5, 5).unsqueeze(2).expand(-1, -1, 7, -1, -1)  # (1, 2, 7, 5, 5)
    weight = torch.randn(3, 2, 3, 3)
    got = run_student(inflate, (weight, 3), name, [inflate_kernel, inflate_from])
    out = F.conv3d(still, got, padding=(1, 1, 1))[:, :, 1:-1]
    if not torch.allclose(out, F.conv2d(still[:, :, 0], weight, padding=1)[:, :, None].expand_as(
            out), atol=1e-5):
        raise fail(f"{name}: on a still clip the inflated kernel does not give the 2D output",
                   "each of the temporal_size copies is weight / temporal_size")
    print(f"✓ {name}: right on {len(INFLATE_SETTINGS) + 1} kernels; a still clip gives the 2D "
          f"output")


MACS_SETTINGS = [(3, 8, (5, 7, 7), (8, 32, 32)), (64, 64, (3, 1, 1), (4, 14, 14)),
                 (16, 32, (1, 3, 3), (2, 7, 9)), (5, 7, (1, 1, 1), (1, 1, 1))]


@exercise_check("conv_macs", library=lambda: [count_flops], subclass=False, wrong=[
    ("def conv_macs(in_channels, out_channels, kernel, output_size):\n"
     "    kt, kh, kw = kernel\n"
     "    t, h, w = output_size\n"
     "    return in_channels * out_channels * kh * kw * t * h * w", "kT"),
    ("def conv_macs(in_channels, out_channels, kernel, output_size):\n"
     "    kt, kh, kw = kernel\n"
     "    return in_channels * out_channels * kt * kh * kw", "output position"),
    ("def conv_macs(in_channels, out_channels, kernel, output_size):\n"
     "    kt, kh, kw = kernel\n"
     "    t, h, w = output_size\n"
     "    return 2 * in_channels * out_channels * kt * kh * kw * t * h * w", "multiply-add"),
])
def check_conv_macs(conv_macs: Callable) -> None:
    """Exercise 12.2: the multiply-adds of a 3D convolution (no groups, no bias), compared with
    torch's FLOP counter on convolutions the notebook did not use."""
    name = "conv_macs"
    own(conv_macs, name)
    for in_ch, out_ch, kernel, size in MACS_SETTINGS:
        setting = f"in_channels={in_ch}, out_channels={out_ch}, kernel={kernel}, " \
                  f"output_size={size}"
        got = run_student(conv_macs, (in_ch, out_ch, kernel, size), name, [count_flops],
                          setting=setting)
        with torch.device("meta"):
            conv = torch.nn.Conv3d(in_ch, out_ch, kernel, padding=tuple(k // 2 for k in kernel),
                                   bias=False)
            want = round(count_flops(conv, torch.empty(1, in_ch, *size)) * 1e9)
        if same(got, want):
            continue
        positions = size[0] * size[1] * size[2]
        per = in_ch * out_ch * kernel[0] * kernel[1] * kernel[2]
        hint = diagnose(got, [
            ("a 3D kernel has kT x kH x kW weights per pair of channels: kT counts too",
             lambda: want // kernel[0]),
            ("the kernel is applied at every output position: times T x H x W",
             lambda: per),
            ("one multiply-add counts once (the paper's FLOPs are multiply-adds; torch's counter "
             "says 2 per multiply-add)", lambda: 2 * want),
        ])
        raise fail(f"{name}({setting}) = {listed(got)}, the convolution does {want:,d} "
                   f"multiply-adds ({per:,d} per position x {positions:,d} positions)", hint)
    print(f"✓ {name}: right on {len(MACS_SETTINGS)} convolutions")
