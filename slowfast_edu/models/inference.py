"""An inference mode: the same network, rewritten to run faster on a CPU with the same outputs.

At test time a BatchNorm is a fixed per-channel affine map, y = gamma * (x - mean) / sqrt(var + eps)
+ beta, and so is the convolution before it: the two fold into one convolution,

    w' = w * gamma / sqrt(var + eps)
    b' = beta + (b - mean) * gamma / sqrt(var + eps)

which saves a full read and write of every feature map. Then, on the CPU, we let oneDNN (the
library behind PyTorch's CPU convolutions) do more in one call: the ReLU after a convolution, and
the bottleneck's residual sum and last ReLU, are applied while the output is still in cache. And the
weights are stored channels-last (C_out, kT, kH, kW, C_in in memory), the layout oneDNN convolves
fastest, so the features stay channels-last from the stem to the head.

Why these three: in the plain network BatchNorm, the separate ReLUs and the residual sums are each
a full pass over a feature map, and on contiguous (B, C, T, H, W) tensors PyTorch sends the thin
Fast pathway's convolutions to its own im2col + GEMM path rather than to oneDNN's kernels. Each step
is kept because it measurably helped; the alternatives tried (`torch.jit.freeze`, `torch.compile`,
prepacked weights, other layouts, thread counts) gained nothing here or cost more than they gave
(`torch.compile(optimize_for_inference(m))` works if you want both). The measurements, with their
command, date, hardware and load, are in docs/benchmarks.md, "CPU inference"
(`benchmarks/cpu_inference.py`).

The backbone's modules (stem, bottleneck, non-local block) are folded here; the paper's
interchangeable parts (lateral connections, Fast inputs, heads: the registries' classes) fold
themselves through their `fold_for_inference(fuse_relu)` method, which this module calls.

`optimize_for_inference(model)` returns a new model; it takes the same `[slow, fast]` input.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .nonlocal_block import NonLocal
from .resnet import Bottleneck
from .stem import Stem

# oneDNN's convolution with fused element-wise ops (the op torch.compile emits on CPUs); present
# where PyTorch is built with oneDNN, as its x86 wheels are
_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                            "_convolution_pointwise")


def fold_bn(conv: nn.Conv3d, bn: nn.BatchNorm3d) -> nn.Conv3d:
    """A new Conv3d (with a bias) computing bn(conv(x)) with `bn`'s running statistics."""
    if bn.running_var is None:
        raise ValueError("cannot fold a BatchNorm that keeps no running statistics "
                         "(track_running_stats=False): it normalises with each batch's own")
    gamma = bn.weight.detach() if bn.weight is not None else torch.ones_like(bn.running_var)
    beta = bn.bias.detach() if bn.bias is not None else torch.zeros_like(bn.running_var)
    scale = gamma / torch.sqrt(bn.running_var + bn.eps)  # gamma / sqrt(var + eps)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    folded = nn.Conv3d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, bias=True,
                       padding_mode=conv.padding_mode, device=conv.weight.device,
                       dtype=conv.weight.dtype)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1, 1))  # w' = w * scale
        folded.bias.copy_(beta + (bias - bn.running_mean) * scale)  # b' = beta + (b - mean) * scale
    return folded


class FusedConv3d(nn.Conv3d):
    """A Conv3d followed by an optional residual sum and ReLU: relu(conv(x) + residual).

    On the CPU this is one oneDNN call (the op `torch.compile` uses for the same fusion); elsewhere,
    or where oneDNN is missing, it is the plain three steps. Same parameters as the Conv3d it
    replaces, so state dicts and hooks see the same names.
    """

    use_onednn = True  # set False to compare with the plain path

    def __init__(self, *args, relu: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.relu = relu

    @classmethod
    def from_conv(cls, conv: nn.Conv3d, relu: bool = True) -> FusedConv3d:
        """The fused version of `conv` (BN already folded into it), sharing its weights."""
        fused = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                    conv.padding, conv.dilation, conv.groups, conv.bias is not None,
                    conv.padding_mode, relu=relu, device="meta")
        fused.weight, fused.bias = conv.weight, conv.bias
        return fused

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        if self._onednn_can_run(x):
            geometry = (list(self.padding), list(self.stride), list(self.dilation), self.groups)
            unary = "relu" if self.relu else "none"
            if residual is None:
                return torch.ops.mkldnn._convolution_pointwise(
                    x, self.weight, self.bias, *geometry, unary, [], "")
            return torch.ops.mkldnn._convolution_pointwise.binary(
                x, residual, self.weight, self.bias, *geometry, "add", 1.0,
                unary if self.relu else None, [], "")
        y = super().forward(x)
        if residual is not None:
            y = y + residual
        return F.relu(y, inplace=True) if self.relu else y

    def _onednn_can_run(self, x: torch.Tensor) -> bool:
        # the fused op has no backward, and TorchScript cannot trace it; torch.compile fuses the
        # plain path itself. In those cases, the plain path.
        return (self.use_onednn and _ONEDNN and x.device.type == "cpu"
                and x.dtype == torch.float32 and self.padding_mode == "zeros"
                and not isinstance(self.padding, str)
                and not (torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad))
                and not torch.jit.is_tracing() and not torch.compiler.is_compiling())

    def extra_repr(self) -> str:
        return super().extra_repr() + f", relu={self.relu}"


class FusedBottleneck(nn.Module):
    """A Bottleneck at inference: BN folded in, the ReLUs and the residual sum fused into convs."""

    def __init__(self, block: Bottleneck) -> None:
        super().__init__()
        self.conv_a = FusedConv3d.from_conv(fold_bn(block.conv_a, block.bn_a))
        self.conv_b = FusedConv3d.from_conv(fold_bn(block.conv_b, block.bn_b))
        self.conv_c = FusedConv3d.from_conv(fold_bn(block.conv_c, block.bn_c))
        self.shortcut = None
        if block.shortcut is not None:
            self.shortcut = nn.Sequential(OrderedDict(conv=FusedConv3d.from_conv(
                fold_bn(block.shortcut.conv, block.shortcut.bn), relu=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)  # (B, C_out, T, H/s, W/s)
        x = self.conv_a(x)  # relu(bn_a(conv_a(x))): (B, C_inner, T, H, W)
        x = self.conv_b(x)  # (B, C_inner, T, H/s, W/s)
        return self.conv_c(x, residual=identity)  # relu(bn_c(conv_c(x)) + identity)


def fold_conv_bn_relu(module: nn.Module, fuse_relu: bool = True) -> None:
    """Fold `module.bn` into `module.conv` in place (and, with `fuse_relu`, `module.relu` too).

    For the modules that run conv -> bn -> relu: the stem and the time-strided lateral.
    """
    if fuse_relu:  # one fused conv; bn and relu then pass their input through
        module.conv = FusedConv3d.from_conv(fold_bn(module.conv, module.bn))
        module.bn, module.relu = nn.Identity(), nn.Identity()
    else:
        module.conv, module.bn = fold_bn(module.conv, module.bn), nn.Identity()
        module.relu.inplace = True  # its input is a temporary: no need for a new tensor


def optimize_for_inference(model: nn.Module, *, channels_last: bool = True,
                           fuse_relu: bool = True) -> nn.Module:
    """A copy of `model` for inference: eval mode, BN folded, frozen, channels-last, ReLU fused."""
    model = copy.deepcopy(model).eval()
    for module in list(model.modules()):
        if hasattr(module, "fold_for_inference"):  # a registry's class folds itself
            folded = module.fold_for_inference(fuse_relu)
            if folded is not module:
                _replace_child(model, module, folded)
        elif isinstance(module, Stem):
            fold_conv_bn_relu(module, fuse_relu)
        elif isinstance(module, Bottleneck):
            if fuse_relu:
                _replace_child(model, module, FusedBottleneck(module))
                continue
            for conv, bn in (("conv_a", "bn_a"), ("conv_b", "bn_b"), ("conv_c", "bn_c")):
                setattr(module, conv, fold_bn(getattr(module, conv), getattr(module, bn)))
                setattr(module, bn, nn.Identity())
            module.relu.inplace = True
            if module.shortcut is not None:
                module.shortcut.conv = fold_bn(module.shortcut.conv, module.shortcut.bn)
                module.shortcut.bn = nn.Identity()
        elif isinstance(module, NonLocal):
            module.conv_out, module.bn = fold_bn(module.conv_out, module.bn), nn.Identity()
    left = [name for name, m in model.named_modules()
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))]
    if left:
        raise TypeError(f"optimize_for_inference cannot fold the BatchNorms {left}: give the "
                        f"class that holds them a fold_for_inference(fuse_relu) method (see "
                        f"slowfast_edu/models/registry.py)")
    if channels_last:
        model = model.to(memory_format=torch.channels_last_3d)  # conv weights to (O, kT, kH, kW, I)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _replace_child(root: nn.Module, old: nn.Module, new: nn.Module) -> None:
    for parent in root.modules():
        for name, child in parent.named_children():
            if child is old:
                setattr(parent, name, new)
                return
    raise ValueError("module not found in the model")  # pragma: no cover - internal misuse
