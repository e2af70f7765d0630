"""The notebooks' self-checks: is my answer right, and if not, what should I look at?

Each check prints one line starting with "✓" when the answer is right and raises an
`AssertionError` naming what differs (a dimension, an element, a gradient) plus an optional hint
when it is wrong. An exercise that is not done yet (its variable is `None`, or the student's code
still raises `NotImplementedError`) raises `ExerciseNotDone` instead of a confusing traceback.

    check_shape(slow.shape, (1, 3, 8, 64, 64), "slow clip", hint="every alpha-th frame?")
    check_close(my_indices, sample_indices(...), "Slow frame indices")
    check_grad(MyBottleneck(...), x, reference=Bottleneck(...))
    check_parameters(student, reference); copy_weights(reference, student)

These compare one answer with one expected value. The course's exercises are graded by the checks
of `slowfast_edu.exercises`, built on these: they run the student's code on settings the notebook
never shows, refuse the library's own code handed back, subclassed or called
(`slowfast_edu.notebooks.own_work`), and name the mistake they recognise.
"""

from __future__ import annotations

import copy
import math
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.autograd.gradcheck import GradcheckError

__all__ = ["ExerciseNotDone", "check_close", "check_grad", "check_parameters", "check_shape",
           "copy_weights"]

DIMS_5D = ("B", "C", "T", "H", "W")


class ExerciseNotDone(AssertionError):
    """The exercise's answer is missing: the cell above still raises NotImplementedError."""


def _not_done(name: str) -> ExerciseNotDone:
    return ExerciseNotDone(f"Exercise not done yet: `{name}` is None. Replace the "
                           f"`raise NotImplementedError(...)` in the exercise cell with your "
                           f"answer, run that cell, then run this check again.")


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def _shape_of(x: Any) -> tuple[int, ...]:
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return tuple(int(d) for d in x.shape)
    if isinstance(x, (torch.Size, tuple, list)) and all(
            isinstance(d, (int, np.integer)) or d is None for d in x):
        return tuple(x)
    if isinstance(x, (int, float, bool, np.number)):
        return ()
    raise TypeError(f"cannot read a shape from {type(x).__name__}: pass a tensor, an array, "
                    f"a torch.Size or a tuple of ints")


def _shape_error(actual: tuple, expected: tuple, name: str,
                 dims: Sequence[str] | None) -> str | None:
    """Why `actual` does not match `expected` (None entries match anything), or None."""
    if dims is None and len(expected) == 5:
        dims = DIMS_5D
    if len(actual) != len(expected):
        named = f" ({', '.join(dims)})" if dims and len(dims) == len(expected) else ""
        return (f"{name}: has {len(actual)} dimensions, shape {tuple(actual)}, expected "
                f"{len(expected)}{named}, shape {tuple(expected)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        if e is not None and a != e:
            label = f" ({dims[i]})" if dims and len(dims) == len(expected) else ""
            return (f"{name}: dim {i}{label} is {a}, expected {e} "
                    f"(shape {tuple(actual)}, expected {tuple(expected)})")
    return None


def check_shape(actual: Any, expected: Any, name: str = "tensor", hint: str | None = None,
                dims: Sequence[str] | None = None) -> None:
    """Check that `actual` (tensor, array, torch.Size or tuple) has shape `expected`.

    `expected` may be a shape or a tensor whose shape to match; `None` entries match any size.
    5D shapes name their dims B, C, T, H, W in messages unless `dims` names them otherwise.
    """
    if actual is None:
        raise _not_done(name)
    got = _shape_of(actual)
    want = _shape_of(expected)
    error = _shape_error(got, want, name, dims)
    if error:
        raise AssertionError(_with_hint(error, hint))
    print(f"✓ {name}: shape {tuple(got)} is correct")


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    try:
        return torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: cannot compare a {type(x).__name__} ({e})") from None


def _compare_leaf(actual: Any, expected: Any, name: str, atol: float, rtol: float,
                  hint: str | None) -> tuple[bool, float]:
    """(bit-identical?, max abs difference) of two tensors, numbers or arrays; raise if too far."""
    if actual is None:
        raise _not_done(name)
    a, e = _as_tensor(actual, name), _as_tensor(expected, name)
    error = _shape_error(tuple(a.shape), tuple(e.shape), name, None)
    if error:
        raise AssertionError(_with_hint(error, hint))
    if a.numel() == 0:
        return True, 0.0
    if a.dtype.is_complex or e.dtype.is_complex:
        a, e = torch.view_as_real(a.to(torch.complex128)), torch.view_as_real(e.to(torch.complex128))
    a64, e64 = a.to(torch.float64), e.to(torch.float64)
    if torch.equal(a64.nan_to_num(nan=0.125), e64.nan_to_num(nan=0.125)) and torch.equal(
            a64.isnan(), e64.isnan()):
        return True, 0.0
    diff = (a64 - e64).abs()
    diff = torch.where(a64.isnan() & e64.isnan(), torch.zeros_like(diff), diff)
    diff = torch.where(a64.isnan() ^ e64.isnan(), torch.full_like(diff, math.inf), diff)
    diff = torch.where(a64.isinf() & (a64 == e64), torch.zeros_like(diff), diff)
    bad = diff > atol + rtol * e64.abs().nan_to_num(posinf=0.0)
    worst = int(diff.flatten().argmax())
    max_diff = float(diff.flatten()[worst])
    if bad.any():
        where = tuple(int(i) for i in np.unravel_index(worst, tuple(a.shape))) if a.dim() else ()
        at = f" at index {where}" if where else ""
        raise AssertionError(_with_hint(
            f"{name}: max abs difference {max_diff:.3g}{at} (got {a64.flatten()[worst].item():.6g}, "
            f"expected {e64.flatten()[worst].item():.6g}); {int(bad.sum())} of {bad.numel()} "
            f"elements out of tolerance (atol={atol:g}, rtol={rtol:g})", hint))
    return False, max_diff


def _compare(actual: Any, expected: Any, name: str, atol: float, rtol: float,
             hint: str | None) -> tuple[bool, float]:
    """Walk dicts and lists in step; (all bit-identical?, max abs difference over the leaves)."""
    if actual is None:
        raise _not_done(name)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            raise AssertionError(_with_hint(f"{name}: expected a dict, got {type(actual).__name__}",
                                            hint))
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            raise AssertionError(_with_hint(
                f"{name}: keys differ: missing {sorted(map(str, missing))}, unexpected "
                f"{sorted(map(str, extra))}", hint))
        results = [_compare(actual[k], expected[k], f"{name}[{k!r}]", atol, rtol, hint)
                   for k in expected]
    elif isinstance(expected, (list, tuple)) and not _is_flat_numbers(expected):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            got = len(actual) if isinstance(actual, (list, tuple)) else type(actual).__name__
            raise AssertionError(_with_hint(
                f"{name}: expected a list of {len(expected)} items, got {got}", hint))
        results = [_compare(a, e, f"{name}[{i}]", atol, rtol, hint)
                   for i, (a, e) in enumerate(zip(actual, expected))]
    else:
        return _compare_leaf(actual, expected, name, atol, rtol, hint)
    return all(r[0] for r in results), max((r[1] for r in results), default=0.0)


def _is_flat_numbers(x: Sequence) -> bool:
    return all(isinstance(v, (int, float, bool, np.number)) for v in x)


def check_close(actual: Any, expected: Any, name: str = "result", atol: float = 1e-5,
                rtol: float = 1e-4, hint: str | None = None) -> None:
    """Check `actual` against `expected` (tensors, arrays, numbers, or dicts/lists of them).

    Shapes first; then prints "exact" (bit-identical) or "approximate (max abs difference ...)",
    or raises with the largest difference, where it occurs and `hint`.
    """
    exact, max_diff = _compare(actual, expected, name, atol, rtol, hint)
    verdict = "exact" if exact else f"approximate (max abs difference {max_diff:.2g})"
    print(f"✓ {name}: {verdict}")


def _tensors(x: Any) -> tuple[torch.Tensor, ...]:
    if isinstance(x, torch.Tensor):
        return (x,)
    if isinstance(x, Mapping):
        return tuple(t for v in x.values() for t in _tensors(v))
    if isinstance(x, (list, tuple)):
        return tuple(t for v in x for t in _tensors(v))
    return ()


def _call(fn: Callable, inputs: tuple, name: str) -> tuple[torch.Tensor, ...]:
    try:
        out = fn(*inputs)
    except NotImplementedError as e:
        raise ExerciseNotDone(f"Exercise not done yet: {name} raised NotImplementedError "
                              f"({e}). Fill in the exercise cell and run it again.") from None
    outputs = tuple(t for t in _tensors(out) if t.is_floating_point())
    if not outputs:
        raise TypeError(f"{name}: returned {type(out).__name__}, no floating-point tensor to "
                        f"differentiate")
    return outputs


def _fresh_inputs(inputs: tuple, dtype: torch.dtype | None = None) -> tuple:
    fresh = []
    for x in inputs:
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            x = x.detach().clone().to(dtype or x.dtype).requires_grad_(True)
        fresh.append(x)
    return tuple(fresh)


def check_grad(fn: Callable, inputs: Any, reference: Callable | None = None,
               name: str | None = None, atol: float = 1e-5, rtol: float = 1e-4,
               gradcheck: bool | None = None, hint: str | None = None) -> None:
    """Check the gradients of `fn` (a function or module) at `inputs`.

    With `reference`, backpropagates the same random output gradient through both and compares the
    gradients of the inputs and (for two modules) of parameters with the same names. With
    `gradcheck` (the default without a reference) compares autograd's gradients of the inputs
    against finite differences, in float64 on a copy: `torch.autograd.gradcheck`.
    """
    name = name or getattr(fn, "__name__", type(fn).__name__)
    if fn is None:
        raise _not_done(name)
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    if not any(isinstance(x, torch.Tensor) and x.is_floating_point() for x in inputs):
        raise TypeError(f"{name}: no floating-point tensor among the inputs to differentiate")
    done = []
    if reference is not None:
        done.append(_compare_to_reference(fn, inputs, reference, name, atol, rtol, hint))
    if gradcheck or (gradcheck is None and reference is None):
        done.append(_gradcheck(fn, inputs, name, hint))
    print(f"✓ {name}: gradients {' and '.join(done)}")


def _compare_to_reference(fn: Callable, inputs: tuple, reference: Callable, name: str,
                          atol: float, rtol: float, hint: str | None) -> str:
    # copies, so that neither the student's module nor the reference changes (BN statistics, .grad)
    fn, reference = _private_copy(fn), _private_copy(reference)
    xs, xs_ref = _fresh_inputs(inputs), _fresh_inputs(inputs)
    outs, outs_ref = _call(fn, xs, name), _call(reference, xs_ref, "the reference")
    if len(outs) != len(outs_ref):
        raise AssertionError(_with_hint(f"{name}: returns {len(outs)} tensors, the reference "
                                        f"{len(outs_ref)}", hint))
    g = torch.Generator().manual_seed(0)
    upstream = [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in outs_ref]
    for o, r in zip(outs, outs_ref):
        error = _shape_error(tuple(o.shape), tuple(r.shape), f"{name} output", None)
        if error:
            raise AssertionError(_with_hint(error, hint))
        if not o.requires_grad:
            raise AssertionError(_with_hint(f"{name}: its output has no gradient at all (is it "
                                            f"computed under torch.no_grad() or detached?)", hint))
    torch.autograd.backward(outs, upstream)
    torch.autograd.backward(outs_ref, upstream)
    got: dict[str, Any] = {f"input {i}": x.grad for i, x in enumerate(xs)
                           if isinstance(x, torch.Tensor) and x.requires_grad}
    want: dict[str, Any] = {f"input {i}": x.grad for i, x in enumerate(xs_ref)
                            if isinstance(x, torch.Tensor) and x.requires_grad}
    if isinstance(fn, nn.Module) and isinstance(reference, nn.Module):
        params = dict(fn.named_parameters())
        for key, p in reference.named_parameters():
            if key in params:
                got[f"parameter {key}"], want[f"parameter {key}"] = params[key].grad, p.grad
    for key in want:
        if got[key] is None and want[key] is not None:
            raise AssertionError(_with_hint(f"{name}: no gradient reaches {key}: is it used in "
                                            f"the forward pass (and not detached)?", hint))
    exact, max_diff = _compare({k: v for k, v in got.items() if v is not None},
                               {k: v for k, v in want.items() if v is not None},
                               f"{name} gradient", atol, rtol, hint)
    compared = ", ".join(sorted({k.split(" ")[0] + "s" for k in want}))
    detail = "exactly" if exact else f"(max abs difference {max_diff:.2g})"
    return f"of the {compared} match the reference {detail}"


def _private_copy(fn: Callable) -> Callable:
    """A module, or a module's bound method, on a deep copy of the module; else `fn`."""
    if isinstance(fn, nn.Module):
        return copy.deepcopy(fn)
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, nn.Module):
        return types.MethodType(fn.__func__, copy.deepcopy(owner))
    return fn


def _gradcheck(fn: Callable, inputs: tuple, name: str, hint: str | None) -> str:
    fn = _private_copy(fn)
    owner = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    if isinstance(owner, nn.Module):
        owner.double()
    xs = _fresh_inputs(inputs, torch.float64)

    def flat(*args: Any) -> tuple[torch.Tensor, ...]:
        return _call(fn, args, name)

    try:
        torch.autograd.gradcheck(flat, xs, eps=1e-6, atol=1e-5, rtol=1e-3)
    except GradcheckError as e:
        first = str(e).strip().splitlines()[0]
        raise AssertionError(_with_hint(
            f"{name}: autograd's gradients differ from finite differences (float64 gradcheck): "
            f"{first}", hint)) from None
    return "agree with finite differences (torch.autograd.gradcheck, float64)"


def check_parameters(student: nn.Module, reference: nn.Module, name: str = "module",
                     hint: str | None = None) -> None:
    """Check that `student` has the reference's parameters: the same names, shapes and count."""
    if student is None:
        raise _not_done(name)
    got = {k: tuple(p.shape) for k, p in student.named_parameters()}
    want = {k: tuple(p.shape) for k, p in reference.named_parameters()}
    missing = [k for k in want if k not in got]
    if missing:
        raise AssertionError(_with_hint(
            f"{name}: missing parameter(s) {missing}; it has {sorted(got)}. Name the layers as "
            f"the reference does (shapes expected: "
            f"{ {k: want[k] for k in missing} })", hint))
    extra = [k for k in got if k not in want]
    if extra:
        raise AssertionError(_with_hint(f"{name}: unexpected parameter(s) {extra} (shapes "
                                        f"{ {k: got[k] for k in extra} }): the reference has "
                                        f"no such layer (bias=False on convs before BN?)", hint))
    for k in want:
        if got[k] != want[k]:
            raise AssertionError(_with_hint(f"{name}: parameter {k} has shape {got[k]}, "
                                            f"expected {want[k]}", hint))
    count = sum(math.prod(s) for s in want.values())
    print(f"✓ {name}: {len(want)} parameter tensors, {count:,d} parameters, as the reference")


def copy_weights(source: nn.Module, target: nn.Module) -> nn.Module:
    """Load `source`'s parameters and buffers (BN statistics) into `target`; returns `target`."""
    if target is None:
        raise _not_done("the module")
    state = source.state_dict()
    own = target.state_dict()
    missing = [k for k in state if k not in own]
    if missing:
        raise AssertionError(f"cannot copy the weights: the module has no {missing}; its entries "
                             f"are {sorted(own)}")
    for k, v in state.items():
        if own[k].shape != v.shape:
            raise AssertionError(f"cannot copy the weights: {k} has shape {tuple(own[k].shape)} "
                                 f"in the module, {tuple(v.shape)} in the reference")
    target.load_state_dict(state, strict=False)
    return target
