"""Every registered exercise check refuses the library's own code, each typical wrong answer with
its hint, and a hard-coded or crashing answer; the notebooks' solutions pass them (that part runs
in test_exercises.py, through the notebooks themselves)."""

from __future__ import annotations

import copy
import functools
import inspect
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from slowfast_edu.checks import ExerciseNotDone
from slowfast_edu.data import synthetic
from slowfast_edu.models import clip_geometry
from slowfast_edu.views import read_views
from slowfast_edu.explain.gradcam import grad_cam, upsample
from slowfast_edu.explain.activations import temporal_energy
from slowfast_edu.models import count_params
from slowfast_edu.models.fusion import TimeStridedConv
from slowfast_edu.models.resnet import Bottleneck
from slowfast_edu.exercises import REGISTRY
from slowfast_edu.notebooks.own_work import LibraryUsed, check_own, forbidding, library_origin

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CHECKS = sorted(REGISTRY)


def student_namespace() -> dict:
    """What a notebook cell has at hand: the usual imports, as in the notebooks."""
    return {"__name__": "__main__", "torch": torch, "nn": nn, "F": F, "np": np, "math": math,
            "OrderedDict": OrderedDict, "CLASSES": synthetic.CLASSES, "Bottleneck": Bottleneck,
            "TimeStridedConv": TimeStridedConv, "count_params": count_params,
            "temporal_energy": temporal_energy, "grad_cam": grad_cam, "upsample": upsample,
            "read_views": read_views, "clip_geometry": clip_geometry}


def define(source: str, answer: str):
    """Run a student's cell; the object it defines under `answer`."""
    namespace = student_namespace()
    exec(compile(source, "<student cell>", "exec"), namespace)
    return namespace[answer]


def subclass_of(obj):
    """A student's subclass of a library class, or a bound method of one (None for functions)."""
    if inspect.isclass(obj):
        return type(f"My{obj.__name__}", (obj,), {"__module__": "__main__"})
    if inspect.ismethod(obj):
        owner = obj.__self__
        sub = type(f"My{type(owner).__name__}", (type(owner),), {"__module__": "__main__"})
        mine = copy.copy(owner)
        mine.__class__ = sub
        return getattr(mine, obj.__name__)
    return None


@pytest.mark.parametrize("check", CHECKS)
def test_refuses_the_library_object_and_a_subclass_of_it(check):
    spec = REGISTRY[check]
    for obj in spec.library():
        with pytest.raises(LibraryUsed, match="library's own code"):
            spec.check(obj)
        sub = subclass_of(obj)
        if sub is not None:
            with pytest.raises(LibraryUsed, match="library's own code"):
                spec.check(sub)
        if inspect.isfunction(obj) or inspect.ismethod(obj):
            with pytest.raises(LibraryUsed, match="library's own code"):
                spec.check(functools.partial(obj))


@pytest.mark.parametrize("check", CHECKS)
def test_names_each_typical_mistake(check):
    spec = REGISTRY[check]
    assert spec.wrong, f"{check}: register at least one wrong answer"
    for source, hint in spec.wrong:
        answer = define(source, spec.answer)
        with pytest.raises(AssertionError) as e:
            spec.check(answer)
        assert not isinstance(e.value, ExerciseNotDone)
        assert hint in str(e.value), f"{check}: expected {hint!r} in:\n{e.value}\nfor\n{source}"


@pytest.mark.parametrize("check", CHECKS)
def test_not_done_and_a_crash_are_reported_plainly(check):
    spec = REGISTRY[check]
    with pytest.raises(ExerciseNotDone, match="not done"):
        spec.check(None)
    if spec.subclass:  # a class: the student's __init__ is not done yet
        source = (f"class {spec.answer}(nn.Module):\n    def __init__(self, *a, **k):\n"
                  f"        super().__init__()\n"
                  f"        raise NotImplementedError('Exercise 1: ...')\n")
    else:
        source = f"def {spec.answer}(*args):\n    raise NotImplementedError('Exercise 1: ...')\n"
    with pytest.raises(ExerciseNotDone, match="NotImplementedError"):
        spec.check(define(source, spec.answer))
    crash = (f"def {spec.answer}(*args):\n    return 1 / 0\n" if not spec.subclass else
             f"class {spec.answer}(nn.Module):\n    def __init__(self, *a, **k):\n"
             f"        super().__init__()\n        1 / 0\n")
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        spec.check(define(crash, spec.answer))


def test_library_origin_sees_through_wrappers_and_containers():
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.ReLU(), Bottleneck(4, 2, 4))

    assert library_origin(Mine()).endswith("Bottleneck (as .inner.1)")
    assert library_origin(type("B", (nn.Module,), {"forward": Bottleneck.forward}))
    assert library_origin(functools.partial(count_params)).endswith("count_params")
    assert library_origin(nn.Conv3d(1, 1, 1)) is None
    assert library_origin(torch.zeros(2)) is None and library_origin(lambda x: x) is None
    check_own(define("def f(x):\n    return x\n", "f"))


def test_forbidding_replaces_the_calls_and_puts_everything_back():
    import slowfast_edu.models as models

    student = define("def f(m):\n    return count_params(m)\n", "f")
    with forbidding([count_params], student.__globals__):
        with pytest.raises(LibraryUsed, match="calls the library's .*count_params"):
            student(nn.Linear(2, 2))
        with pytest.raises(LibraryUsed):
            models.count_params(nn.Linear(2, 2))  # reached through the package too
    assert student(nn.Linear(2, 2)) == 6 and models.count_params is count_params
