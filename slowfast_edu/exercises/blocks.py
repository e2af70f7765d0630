"""Checks of the bottleneck exercises: the block itself and its parameter count (notebook 02)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..models import count_params
from ..models.resnet import Bottleneck
from .common import diagnose, exercise_check, fail, listed, own, run_student, same
from .modules import check_module, randomise_norms

BOTTLENECK_SETTINGS = [
    dict(in_channels=32, inner_channels=8, out_channels=32, temporal_kernel=3),
    dict(in_channels=16, inner_channels=8, out_channels=32, spatial_stride=2),
    dict(in_channels=24, inner_channels=6, out_channels=24, temporal_kernel=5),
    dict(in_channels=12, inner_channels=4, out_channels=20, temporal_kernel=3, spatial_stride=2),
]


def _bottleneck_parameter_hints(got: dict, want: dict) -> str | None:
    if "conv_b.weight" in got and got["conv_b.weight"][2] != 1:
        return "conv_b is 1 x 3 x 3 in every block: the temporal kernel belongs to conv_a"
    if "conv_a.weight" in got and "conv_a.weight" in want and got["conv_a.weight"] != \
            want["conv_a.weight"]:
        return ("conv_a's kernel is (temporal_kernel, 1, 1), with padding "
                "(temporal_kernel // 2, 0, 0)")
    if any(k.startswith("shortcut.") for k in want) and not any(
            k.startswith("shortcut.") for k in got):
        return ("this block changes the width or the size, so its shortcut needs a 1x1x1 "
                "convolution and a BatchNorm: shortcut.conv, shortcut.bn")
    if any(k.startswith("shortcut.") for k in got) and not any(
            k.startswith("shortcut.") for k in want):
        return ("this block keeps the width and the size: its shortcut is x itself "
                "(self.shortcut = None)")
    return None


def _bottleneck_variants(ref: Bottleneck, x: torch.Tensor) -> list:
    def parts():
        a = ref.relu(ref.bn_a(ref.conv_a(x)))
        b = ref.relu(ref.bn_b(ref.conv_b(a)))
        c = ref.bn_c(ref.conv_c(b))
        identity = x if ref.shortcut is None else ref.shortcut(x)
        return a, b, c, identity

    def without_relu(layer: str):
        def thunk():
            a = ref.bn_a(ref.conv_a(x))
            a = a if layer == "a" else ref.relu(a)
            b = ref.bn_b(ref.conv_b(a))
            b = b if layer == "b" else ref.relu(b)
            identity = x if ref.shortcut is None else ref.shortcut(x)
            return ref.relu(ref.bn_c(ref.conv_c(b)) + identity)
        return thunk

    return [
        ("apply the last ReLU after adding the shortcut", lambda: parts()[2] + parts()[3]),
        ("the ReLU comes after the sum: relu(bn_c(conv_c(...)) + shortcut), not before it",
         lambda: ref.relu(parts()[2]) + parts()[3]),
        ("add the shortcut (x itself, or shortcut(x)) before the last ReLU",
         lambda: ref.relu(parts()[2])),
        ("a ReLU follows bn_a", without_relu("a")),
        ("a ReLU follows bn_b", without_relu("b")),
    ]


def _bottleneck_shape_hint(got: tuple, want: tuple) -> str | None:
    if got[2] != want[2]:
        return ("the number of frames must not change: padding (temporal_kernel // 2, 0, 0) "
                "on conv_a")
    if got[3:] != want[3:]:
        return ("stride (1, spatial_stride, spatial_stride) goes on conv_b and on the shortcut's "
                "convolution, nowhere else")
    return None


@exercise_check("MyBottleneck", library=lambda: [Bottleneck], wrong=[
    ("class MyBottleneck(nn.Module):\n"
     "    def __init__(self, in_channels, inner_channels, out_channels, temporal_kernel=1,\n"
     "                 spatial_stride=1):\n"
     "        super().__init__()\n"
     "        self.conv_a = nn.Conv3d(in_channels, inner_channels, 1, bias=False)\n"
     "        self.bn_a = nn.BatchNorm3d(inner_channels)\n"
     "        self.conv_b = nn.Conv3d(inner_channels, inner_channels,\n"
     "                                (temporal_kernel, 3, 3), stride=(1, spatial_stride,\n"
     "                                spatial_stride), padding=(temporal_kernel // 2, 1, 1),\n"
     "                                bias=False)\n"
     "        self.bn_b = nn.BatchNorm3d(inner_channels)\n"
     "        self.conv_c = nn.Conv3d(inner_channels, out_channels, 1, bias=False)\n"
     "        self.bn_c = nn.BatchNorm3d(out_channels)\n"
     "        self.relu = nn.ReLU()\n"
     "        self.shortcut = None\n"
     "    def forward(self, x):\n"
     "        return x\n", "temporal kernel belongs to conv_a"),
    ("class MyBottleneck(Bottleneck):\n    pass\n", "library's own"),
    ("class MyBottleneck(nn.Module):\n"
     "    def __init__(self, *args, **kwargs):\n"
     "        super().__init__()\n"
     "        self.block = Bottleneck(*args, **kwargs)\n"
     "    def forward(self, x):\n"
     "        return self.block(x)\n", "library's"),
    ("class MyBottleneck(nn.Module):\n"
     "    def __init__(self, in_channels, inner_channels, out_channels, temporal_kernel=1,\n"
     "                 spatial_stride=1):\n"
     "        super().__init__()\n"
     "        self.conv_a = nn.Conv3d(in_channels, inner_channels, (temporal_kernel, 1, 1),\n"
     "                                padding=(temporal_kernel // 2, 0, 0), bias=False)\n"
     "        self.bn_a = nn.BatchNorm3d(inner_channels)\n"
     "        self.conv_b = nn.Conv3d(inner_channels, inner_channels, (1, 3, 3),\n"
     "                                stride=(1, spatial_stride, spatial_stride),\n"
     "                                padding=(0, 1, 1), bias=False)\n"
     "        self.bn_b = nn.BatchNorm3d(inner_channels)\n"
     "        self.conv_c = nn.Conv3d(inner_channels, out_channels, 1, bias=False)\n"
     "        self.bn_c = nn.BatchNorm3d(out_channels)\n"
     "        self.relu = nn.ReLU()\n"
     "        self.shortcut = None\n"
     "        if in_channels != out_channels or spatial_stride != 1:\n"
     "            self.shortcut = nn.Sequential(OrderedDict(\n"
     "                conv=nn.Conv3d(in_channels, out_channels, 1,\n"
     "                               stride=(1, spatial_stride, spatial_stride), bias=False),\n"
     "                bn=nn.BatchNorm3d(out_channels)))\n"
     "    def forward(self, x):\n"
     "        identity = x if self.shortcut is None else self.shortcut(x)\n"
     "        x = self.relu(self.bn_a(self.conv_a(x)))\n"
     "        x = self.relu(self.bn_b(self.conv_b(x)))\n"
     "        return self.relu(self.bn_c(self.conv_c(x))) + identity\n", "after the sum"),
])
def check_bottleneck(MyBottleneck: type) -> None:  # noqa: N803 - the class the notebook defines
    """Exercise 02.1: the bottleneck, on widths, kernels and strides the notebook did not use."""
    name = "MyBottleneck"
    own(MyBottleneck, name)
    for i, args in enumerate(BOTTLENECK_SETTINGS):
        reference = randomise_norms(Bottleneck(**args), seed=i)
        g = torch.Generator().manual_seed(10 + i)
        x = torch.randn(2, args["in_channels"], 4, 8, 8, generator=g)  # (B, C_in, T, H, W)
        check_module(MyBottleneck, reference, args, (x,), name, [Bottleneck],
                     _bottleneck_parameter_hints, lambda ref: _bottleneck_variants(ref, x),
                     _bottleneck_shape_hint)
    print(f"✓ {name}: the library's parameters, outputs (train and eval mode) and gradients on "
          f"{len(BOTTLENECK_SETTINGS)} blocks the notebook did not show")


PARAM_SETTINGS = [(1024, 256, 1024, 3), (640, 256, 1024, 3), (128, 32, 128, 3), (64, 64, 256, 1),
                  (256, 64, 256, 1), (80, 64, 256, 1), (32, 8, 32, 5)]


def _bottleneck_count(c_in: int, c_inner: int, c_out: int, kt: int) -> int:
    with torch.device("meta"):
        return count_params(Bottleneck(c_in, c_inner, c_out, temporal_kernel=kt))


@exercise_check("bottleneck_params", library=lambda: [count_params], subclass=False, wrong=[
    ("def bottleneck_params(c_in, c_inner, c_out, kt):\n"
     "    return c_in * c_inner * kt + c_inner * c_inner * 9 + c_inner * c_out", "batch norm"),
    ("def bottleneck_params(c_in, c_inner, c_out, kt):\n"
     "    return (c_in * c_inner * kt + c_inner * c_inner * 9 + c_inner * c_out\n"
     "            + 2 * (2 * c_inner + c_out))", "shortcut"),
    ("def bottleneck_params(c_in, c_inner, c_out, kt):\n"
     "    return (c_in * c_inner * kt + c_inner * c_inner * 9 + c_inner * c_out\n"
     "            + 4 * (2 * c_inner + c_out) + (c_in * c_out + 4 * c_out) * (c_in != c_out))",
     "running"),
    ("def bottleneck_params(c_in, c_inner, c_out, kt):\n"
     "    with torch.device('meta'):\n"
     "        return count_params(Bottleneck(c_in, c_inner, c_out, temporal_kernel=kt))",
     "library's"),
])
def check_bottleneck_params(bottleneck_params: Callable) -> None:
    """Exercise 02.2: a bottleneck's parameters, on blocks of every stage and pathway."""
    name = "bottleneck_params"
    own(bottleneck_params, name)
    for c_in, c_inner, c_out, kt in PARAM_SETTINGS:
        setting = f"c_in={c_in}, c_inner={c_inner}, c_out={c_out}, kt={kt}"
        got = run_student(bottleneck_params, (c_in, c_inner, c_out, kt), name,
                          [count_params, Bottleneck], setting=setting)
        want = _bottleneck_count(c_in, c_inner, c_out, kt)
        if same(got, want):
            continue
        norms, short = 2 * (2 * c_inner + c_out), (c_in * c_out + 2 * c_out) * (c_in != c_out)
        hint = diagnose(got, [
            ("each batch norm has 2 parameters per channel (scale and shift)",
             lambda: want - norms - 2 * c_out * (c_in != c_out)),
            ("the shortcut has a 1x1x1 convolution and a batch norm when c_in != c_out",
             lambda: want - short),
            ("the shortcut is x itself when c_in == c_out: no parameters",
             lambda: want + c_in * c_out + 2 * c_out),
            ("a batch norm's running mean and variance are buffers, not parameters: 2 per "
             "channel", lambda: want + norms + 2 * c_out * (c_in != c_out)),
            ("convolutions before a batch norm have no bias",
             lambda: want + 2 * c_inner + c_out + c_out * (c_in != c_out)),
            ("the temporal kernel kt is on conv_a (c_in x c_inner x kt), not on conv_b",
             lambda: want - c_in * c_inner * (kt - 1) + c_inner * c_inner * 9 * (kt - 1)),
            ("conv_a has c_in x c_inner x kt weights", lambda: want - c_in * c_inner * (kt - 1)),
        ])
        raise fail(f"{name}({c_in}, {c_inner}, {c_out}, {kt}) (a block the exercise did not "
                   f"show) = {listed(got)}, the block has {want:,d}", hint)
    print(f"✓ {name}: right on {len(PARAM_SETTINGS)} blocks")
