"""A notebook's scratch folder: every temporary file it makes, in one folder, removed at its end.

Training runs write checkpoints, the app writes animations, gradio_client downloads results: all
of it through Python's `tempfile`. `scratch_folder()` makes one temporary folder and points
`tempfile` (and the `TMPDIR` of programs the notebook starts) at it, so that those files land
there, whoever creates them; `.cleanup()` in the notebook's last cell removes it and restores
the previous temp folder (so does the end of the kernel, when it ends normally).

    SCRATCH = scratch_folder("05_training_")   # first thing in the notebook, before gradio loads
    ...
    SCRATCH.cleanup()                           # the notebook's last code cell
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path


class ScratchFolder:
    """A temporary folder that `tempfile` uses while it exists."""

    def __init__(self, prefix: str = "notebook_") -> None:
        self._previous = (tempfile.tempdir, os.environ.get("TMPDIR"))
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        tempfile.tempdir = str(self.path)
        os.environ["TMPDIR"] = str(self.path)
        self._finalizer = weakref.finalize(self, _remove, self.path, self._previous)

    def cleanup(self) -> None:
        """Remove the folder and everything in it; `tempfile` goes back to the previous folder."""
        self._finalizer()

    @property
    def removed(self) -> bool:
        """True once the folder is gone."""
        return not self._finalizer.alive

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"ScratchFolder({str(self.path)!r}{', removed' if self.removed else ''})"


def _remove(path: Path, previous: tuple[str | None, str | None]) -> None:
    tempdir, env = previous
    if tempfile.tempdir == str(path):
        tempfile.tempdir = tempdir
    if os.environ.get("TMPDIR") == str(path):
        if env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = env
    shutil.rmtree(path, ignore_errors=True)


def scratch_folder(prefix: str = "notebook_") -> ScratchFolder:
    """A fresh scratch folder that `tempfile` (and programs started from here) use until
    `.cleanup()`."""
    return ScratchFolder(prefix)
