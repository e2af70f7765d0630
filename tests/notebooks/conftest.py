"""The course notebooks as the tests see them: discovered, never listed by hand.

A notebook added to notebooks/ (NN_name.ipynb), an exercise or a question added to a notebook, is
found and tested without editing any test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from slowfast_edu.notebooks import STUDENT_DIR, exercises as course_exercises, list_notebooks

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
STUDENT = NOTEBOOKS / STUDENT_DIR
PATHS = list_notebooks(NOTEBOOKS) if NOTEBOOKS.is_dir() else []
CHECK_CALL = r"\bcheck_\w+\("  # slowfast_edu.checks or slowfast_edu.exercises


def read(path: Path) -> nbformat.NotebookNode:
    """The committed notebook at `path`."""
    return nbformat.read(path, as_version=4)


def exercises(nb: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(exercise cell index, index of its check cell) for every exercise of `nb`."""
    return [(e.cell, e.check) for e in course_exercises(nb)]


@pytest.fixture(params=PATHS, ids=[p.stem for p in PATHS])
def notebook_path(request) -> Path:
    """Each notebook in notebooks/."""
    return request.param
