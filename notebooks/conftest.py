"""How pytest runs the course under nbval (`pytest notebooks --nbval-lax`).

- The student version (`student/`) is not run here: its exercises stop with "not done yet" by
  design (tests/notebooks/test_exercises.py runs them that way).
- Every notebook gets a kernel with a temp folder of its own (TMPDIR), and after its last cell,
  once nbval has stopped its kernel, the folder must be empty: a notebook cleans up after itself
  (`slowfast_edu.notebooks.scratch_folder`). Other tests running at the same time cannot confuse
  the check: they write to their own temp folders. (torch's compile cache, which torch makes in
  the temp folder on import and keeps across runs, stays where it always is.)
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
from pathlib import Path

import pytest

collect_ignore_glob = ["student/*"]

_FOLDERS: dict[str, Path] = {}  # notebook path -> its kernel's temp folder
_TORCH_CACHE = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or os.path.join(
    tempfile.gettempdir(), f"torchinductor_{getpass.getuser()}")  # torch's own default


def _notebook(item: pytest.Item) -> str | None:
    parent = getattr(item, "parent", None)
    path = getattr(parent, "path", None)
    return str(path) if path is not None and str(path).endswith(".ipynb") else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Before a notebook's first cell (when nbval starts its kernel): a private TMPDIR."""
    notebook = _notebook(item)
    if notebook is None or notebook in _FOLDERS:
        return (yield)
    folder = Path(tempfile.mkdtemp(prefix=f"nbval_{Path(notebook).stem[:2]}_"))
    _FOLDERS[notebook] = folder
    saved = {key: os.environ.get(key) for key in ("TMPDIR", "TORCHINDUCTOR_CACHE_DIR")}
    os.environ["TMPDIR"] = str(folder)  # the kernel starts with a copy of this environment
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = _TORCH_CACHE
    try:
        return (yield)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a notebook's last cell (its kernel stopped): nothing may be left in its TMPDIR."""
    result = yield
    notebook = _notebook(item)
    if notebook is None or (nextitem is not None and _notebook(nextitem) == notebook):
        return result
    folder = _FOLDERS.get(notebook)
    if folder is None:
        return result
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    shutil.rmtree(folder, ignore_errors=True)
    if left:
        raise AssertionError(f"{Path(notebook).name} left {len(left)} entries in its temporary "
                             f"folder: {left[:8]}; make it clean up after itself "
                             f"(slowfast_edu.notebooks.scratch_folder)")
    return result
