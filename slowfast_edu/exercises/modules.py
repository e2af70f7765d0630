"""Comparing a student's nn.Module with the library's: parameters, outputs, gradients, mistakes."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from ..checks import copy_weights
from ..notebooks.own_work import check_own
from .common import diagnose, fail, run_student, same


def randomise_norms(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm a scale, shift and running statistics that are not 1 and 0, so that
    a misplaced or missing norm shows; returns `module`."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm3d):
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return module


def build_student(cls: type, kwargs: dict, name: str, forbid: list) -> nn.Module:
    """`cls(**kwargs)`, checked to be an nn.Module of the student's own layers."""
    described = f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    module = run_student(lambda: cls(**kwargs), (), name, forbid, owner=cls, setting=described)
    if not isinstance(module, nn.Module):
        raise fail(f"{described} is a {type(module).__name__}", "subclass nn.Module")
    check_own(module, described)
    return module


def parameter_hint(got: dict, want: dict, extra_hints: Callable[[dict, dict], str | None]
                   ) -> str | None:
    """Why the parameters differ, in the exercise's words, or None."""
    hint = extra_hints(got, want)
    if hint:
        return hint
    biases = [k for k in got if k not in want and k.endswith(".bias")]
    if biases:
        return f"{biases[0]}: a convolution followed by a BatchNorm has no bias (bias=False)"
    return None


def compare_parameters(student: nn.Module, reference: nn.Module, described: str,
                       extra_hints: Callable[[dict, dict], str | None]) -> None:
    """Same parameter names and shapes as the reference, or an AssertionError with a hint."""
    got = {k: tuple(p.shape) for k, p in student.named_parameters()}
    want = {k: tuple(p.shape) for k, p in reference.named_parameters()}
    if got == want:
        return
    missing = {k: want[k] for k in want if k not in got}
    extra = {k: got[k] for k in got if k not in want}
    wrong = {k: (got[k], want[k]) for k in want if k in got and got[k] != want[k]}
    details = "; ".join(part for part in (
        f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
        ", ".join(f"{k} has shape {g}, expected {w}" for k, (g, w) in wrong.items())) if part)
    raise fail(f"{described}: its parameters differ from the library's: {details}",
               parameter_hint(got, want, extra_hints) or "name the layers as the exercise says; "
               "shapes are (C_out, C_in, kt, kh, kw) for convolutions, (C,) for BatchNorms")


def compare_outputs(student: nn.Module, reference: nn.Module, inputs: tuple, described: str,
                    name: str, forbid: list, variants: Callable[[nn.Module], list],
                    shape_hint: Callable[[tuple, tuple], str | None],
                    forward: Callable | None = None) -> None:
    """Outputs in train and eval mode, then gradients, against the reference holding the same
    weights (`forward(reference, *inputs)`, default `reference(*inputs)`); a mismatch is matched
    against `variants(reference)`: [(hint, output thunk)]."""
    forward = forward or (lambda module, *xs: module(*xs))
    for mode in ("train", "eval"):
        mine, ref = copy.deepcopy(student).train(mode == "train"), \
            copy.deepcopy(reference).train(mode == "train")
        xs = tuple(x.clone().requires_grad_(True) for x in inputs)
        xs_ref = tuple(x.clone().requires_grad_(True) for x in inputs)
        out = run_student(mine, xs, name, forbid, owner=type(student), setting=described)
        want = forward(ref, *xs_ref)
        if not isinstance(out, torch.Tensor):
            raise fail(f"{described}: forward returned {type(out).__name__}", "return a tensor")
        if out.shape != want.shape:
            raise fail(f"{described}: output shape {tuple(out.shape)}, expected "
                       f"{tuple(want.shape)} (B, C, T, H, W)",
                       shape_hint(tuple(out.shape), tuple(want.shape)))
        if not same(out, want, atol=1e-4):
            with torch.no_grad():
                hint = diagnose(out, variants(ref), atol=1e-4)
            raise fail(f"{described}, {mode} mode: output differs from the library's (max abs "
                       f"difference {float((out - want).abs().max().detach()):.3g}) with the same "
                       f"weights", hint or "follow the order of the exercise's diagram: conv, "
                       "BN, ReLU for each layer")
        if mode == "train":
            upstream = torch.randn(want.shape, generator=torch.Generator().manual_seed(1))
            if not out.requires_grad:
                raise fail(f"{described}: its output has no gradient", "no torch.no_grad(), "
                           ".detach() or .numpy() in forward")
            out.backward(upstream)
            want.backward(upstream)
            mine_params = dict(mine.named_parameters())
            for key, p in ref.named_parameters():
                q = mine_params[key]
                if q.grad is None or not same(q.grad, p.grad, atol=1e-4):
                    raise fail(f"{described}: the gradient of {key} differs from the library's",
                               f"is {key.split('.')[0]} used in forward (and not detached)?")
            if not same(xs[0].grad, xs_ref[0].grad, atol=1e-4):
                raise fail(f"{described}: the gradient of the input differs", None)


def check_module(cls: type, reference: nn.Module, kwargs: dict, inputs: tuple, name: str,
                 forbid: list, parameter_hints: Callable[[dict, dict], str | None],
                 variants: Callable[[nn.Module], list],
                 shape_hint: Callable[[tuple, tuple], str | None],
                 forward: Callable | None = None) -> None:
    """Build `cls(**kwargs)`, compare its parameters, load the reference's weights into it, and
    compare outputs and gradients (see `compare_outputs`)."""
    described = f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    student = build_student(cls, kwargs, name, forbid)
    compare_parameters(student, reference, described, parameter_hints)
    copy_weights(reference, student)
    compare_outputs(student, reference, inputs, described, name, forbid, variants, shape_hint,
                    forward)
