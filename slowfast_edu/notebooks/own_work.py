"""Is an answer the student's own work? Checks that a grade can rely on.

An exercise asks for code the library already has (a bottleneck, a lateral connection, Grad-CAM).
Handing the library's object back, a subclass of it (`class MyBottleneck(Bottleneck): pass`), a
module built from its parts, or a function that just calls it would pass any check that only
compares outputs. Two defences:

- `check_own(answer, name)` refuses an answer that is, derives from, wraps or contains an object
  defined in `slowfast_edu` (a class, a function, a bound method, a `functools.partial`, a module
  holding library layers);
- `forbidding(*objects)` runs the student's code with those library objects replaced, in every
  `slowfast_edu` module and in the student's own namespace, by stubs that raise `LibraryUsed`:
  a student function that calls `temporal_energy` inside fails with a message saying so.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from torch import nn

PACKAGE = "slowfast_edu"


class LibraryUsed(AssertionError):
    """The answer is the library's own code (handed back, subclassed, wrapped or called)."""


def _library_name(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None) or ""
    if module == PACKAGE or module.startswith(PACKAGE + "."):
        return f"{module}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"
    return None


def library_origin(obj: Any) -> str | None:
    """The `slowfast_edu` object `obj` is, derives from, wraps or contains; None if none."""
    if isinstance(obj, functools.partial):
        return library_origin(obj.func)
    if inspect.ismethod(obj):
        return library_origin(obj.__func__) or library_origin(obj.__self__)
    if inspect.isclass(obj):
        for cls in obj.__mro__:
            found = _library_name(cls)
            if found:
                return found
            for attr in vars(cls).values():  # forward = Bottleneck.forward
                if inspect.isfunction(attr) and _library_name(attr):
                    return _library_name(attr)
        return None
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _library_name(obj)
    found = library_origin(type(obj))
    if found is None and isinstance(obj, nn.Module):
        for name, module in obj.named_modules():
            inner = library_origin(type(module))
            if inner:
                return f"{inner} (as .{name})"
    return found


def check_own(answer: Any, name: str = "your answer") -> None:
    """Raise `LibraryUsed` if `answer` is the library's own object or built from one."""
    found = library_origin(answer)
    if found:
        raise LibraryUsed(f"{name} is the library's own code ({found}): a check cannot grade "
                          f"that. Write it yourself, from the exercise's description; the "
                          f"library's version is what the check compares yours with.")


def _stub(obj: Any) -> Any:
    qualname = f"{obj.__module__}.{getattr(obj, '__qualname__', obj)}"

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise LibraryUsed(f"your code calls the library's {qualname}: the exercise is to write "
                          f"it yourself (the check compares your version with that one)")

    return forbidden


@contextlib.contextmanager
def forbidding(objects: Iterable[Any], *namespaces: dict) -> Iterator[None]:
    """Within the block, `objects` raise `LibraryUsed` when called, wherever they are reached:
    through any loaded `slowfast_edu` module or through `namespaces` (a function's __globals__)."""
    objects = [o for o in objects if o is not None]
    stubs = {id(o): _stub(o) for o in objects}
    patched: list[tuple[Any, str, Any]] = []
    owners = [m for n, m in list(sys.modules.items())
              if m is not None and (n == PACKAGE or n.startswith(PACKAGE + "."))]
    try:
        for owner in owners:
            for attr, value in list(vars(owner).items()):
                if id(value) in stubs and any(value is o for o in objects):
                    patched.append((owner, attr, value))
                    setattr(owner, attr, stubs[id(value)])
        for namespace in namespaces:
            for attr, value in list(namespace.items()):
                if id(value) in stubs and any(value is o for o in objects):
                    patched.append((namespace, attr, value))
                    namespace[attr] = stubs[id(value)]
        yield
    finally:
        for owner, attr, value in reversed(patched):
            if isinstance(owner, dict):
                owner[attr] = value
            else:
                setattr(owner, attr, value)


def namespaces_of(*answers: Any) -> list[dict]:
    """The global namespaces the student's functions and classes look names up in."""
    found: dict[int, dict] = {}
    for answer in answers:
        functions = []
        if inspect.isclass(answer):
            functions = [v for c in answer.__mro__ if c is not object
                         for v in vars(c).values() if inspect.isfunction(v)]
        elif inspect.isfunction(answer):
            functions = [answer]
        elif inspect.ismethod(answer):
            functions = [answer.__func__]
        for fn in functions:
            found.setdefault(id(fn.__globals__), fn.__globals__)
    return list(found.values())
