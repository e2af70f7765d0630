"""What every exercise check shares: calling the student's code safely, comparing, diagnosing.

A check runs the student's function (or class) on settings the notebook never showed, compares
with the library's answer, and when they differ looks for the mistake: it computes what each known
wrong idea would give (the Fast stride instead of the Slow one, a missing ReLU, ...) and names the
one that matches. Every check is registered with `exercise_check`, together with the library
objects a student might hand back and typical wrong answers (as source code, the way a student
writes them), so the tests can try each check against all of them without knowing the exercise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..checks import ExerciseNotDone
from ..notebooks.own_work import LibraryUsed, check_own, forbidding, namespaces_of


@dataclass(frozen=True)
class Spec:
    """A check and what to try it with: `answer` is the name the student's code defines."""

    check: Callable[[Any], None]
    answer: str
    library: Callable[[], list[Any]]  # the library objects that must be refused, built lazily
    wrong: tuple[tuple[str, str], ...] = ()  # (student source defining `answer`, hint expected)
    subclass: bool = True  # whether a subclass of the library's class is a possible answer
    context: dict = field(default_factory=dict)  # names the wrong sources use beyond the usual


REGISTRY: dict[str, Spec] = {}


def exercise_check(answer: str, library: Callable[[], list[Any]],
                   wrong: Sequence[tuple[str, str]] = (), subclass: bool = True) -> Callable:
    """Register a check (see `Spec`); returns the check unchanged."""

    def register(check: Callable) -> Callable:
        REGISTRY[check.__name__] = Spec(check, answer, library, tuple(wrong), subclass)
        return check

    return register


def not_done(answer: Any, name: str) -> None:
    """Raise ExerciseNotDone when the answer is missing."""
    if answer is None:
        raise ExerciseNotDone(f"Exercise not done yet: `{name}` is None. Replace the "
                              f"`raise NotImplementedError(...)` in the exercise cell with your "
                              f"answer, run that cell, then run this check again.")


def run_student(fn: Callable, args: tuple, name: str, forbid: Iterable[Any] = (),
                owner: Any = None, setting: str = "") -> Any:
    """`fn(*args)` with the library's `forbid` objects disabled; a crash becomes a clear
    AssertionError naming the setting, NotImplementedError becomes ExerciseNotDone."""
    try:
        with forbidding(list(forbid), *namespaces_of(owner if owner is not None else fn)):
            return fn(*args)
    except NotImplementedError as e:
        raise ExerciseNotDone(f"Exercise not done yet: {name} raised NotImplementedError "
                              f"({e}). Fill in the exercise cell and run it again.") from None
    except (LibraryUsed, ExerciseNotDone):
        raise
    except Exception as e:  # noqa: BLE001 - the student's code may raise anything
        where = f" for {setting}" if setting else ""
        raise AssertionError(f"{name} raised {type(e).__name__}{where}: {e}") from None


def own(answer: Any, name: str) -> None:
    """`check_own` with the not-done check first."""
    not_done(answer, name)
    check_own(answer, name)


def as_tensor(x: Any) -> torch.Tensor | None:
    """`x` as a tensor (lists, tuples, arrays, numbers), or None if it is not numeric."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    try:
        return torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError):
        return None


def same(a: Any, b: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """True when `a` and `b` have the same shape and values (within the tolerances)."""
    ta, tb = as_tensor(a), as_tensor(b)
    if ta is None or tb is None or ta.shape != tb.shape:
        return False
    if not (ta.is_floating_point() or tb.is_floating_point()):
        return bool(torch.equal(ta.long(), tb.long()))
    return bool(torch.allclose(ta.double(), tb.double(), atol=atol, rtol=rtol, equal_nan=True))


def diagnose(got: Any, mistakes: Iterable[tuple[str, Callable[[], Any]]],
             atol: float = 1e-5) -> str | None:
    """The hint of the first mistake whose output equals `got`, or None."""
    for hint, wrong in mistakes:
        try:
            if same(got, wrong(), atol):
                return hint
        except Exception:  # noqa: BLE001 - a mistake that does not apply to this setting
            continue
    return None


def fail(message: str, hint: str | None) -> AssertionError:
    """An AssertionError with the hint on its own line."""
    return AssertionError(f"{message}\nHint: {hint}" if hint else message)


def listed(x: Any) -> str:
    """A short printable form of a tensor, list or number."""
    t = as_tensor(x)
    if t is None:
        return repr(x)
    if t.numel() > 12:
        return f"a tensor of shape {tuple(t.shape)}"
    return str(t.tolist())
