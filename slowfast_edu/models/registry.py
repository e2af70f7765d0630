"""Named choices of the paper (fusions, Fast inputs, heads): each one a small class in a registry.

A config names its choices by string (`fusion="time_strided_sample"`); the registry of that kind
maps the name to the class that builds it. Adding a choice is one class and one decorator, in any
file, also outside the package (a notebook, a test):

    @FUSIONS.register("time_strided_max")
    class TimeStridedMax(LateralConnection):
        ...

    build_model("slowfast_tiny", fusion="time_strided_max")

Every class of a registry speaks the same small protocol, which is what the rest of the package
relies on instead of a list of names or an `isinstance` chain:

- `build(cfg, ...)`, a classmethod: the module for a network of config `cfg`;
- `describe()`: its entry in the paper's Table 1 (`slowfast_edu.describe`);
- `fold_for_inference(fuse_relu)`: the module to run at test time, BatchNorms folded away
  (`optimize_for_inference`); a class without BatchNorm keeps the default, itself;
- `checkpoint_layers`: its layers' names in the reference checkpoints, {ours: (PyTorchVideo,
  PySlowFast)}, for `convert_state_dict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping


class Registry(Mapping):
    """Name -> class for one kind of choice; iterates over the names, in registration order."""

    def __init__(self, kind: str, base: type) -> None:
        self.kind, self.base = kind, base  # e.g. "fusion", LateralConnection
        self._classes: dict[str, type] = {}

    def register(self, name: str, cls: type | None = None) -> Callable[[type], type] | type:
        """Add `cls` as choice `name`: `@REGISTRY.register("name")` above the class, or a call."""
        if cls is None:
            return lambda c: self.register(name, c)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"a {self.kind} must be a subclass of {self.base.__name__}, "
                            f"got {cls!r}")
        if self._classes.get(name, cls) is not cls:
            raise ValueError(f"{self.kind} {name!r} is already {self._classes[name].__name__}; "
                             f"unregister it first or choose another name")
        self._classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove choice `name` (for a notebook or a test that added its own)."""
        self.choose(name)  # a clear error for a name that is not there
        del self._classes[name]

    def choose(self, name: str) -> type:
        """The class registered as `name`; an unknown name is an error that lists the choices."""
        if not isinstance(name, str) or name not in self._classes:
            raise ValueError(f"{self.kind} must be one of {', '.join(map(repr, self))}; "
                             f"got {name!r}")
        return self._classes[name]

    def __getitem__(self, name: str) -> type:
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {', '.join(self)})"
