"""The exercises run: each student version stops with "not done yet", each solution passes its check.

The notebooks run in this process (IPython's shell, smoke mode, from notebooks/) up to their last
exercise's check cell, in order: at each exercise the student version of the cell runs first,
and it or its check cell must raise NotImplementedError (or ExerciseNotDone); then the solution
runs, and so does the check cell after it, which must pass. nbval runs the complete notebooks.
"""

from __future__ import annotations

import contextlib
import io

import matplotlib
import pytest

from slowfast_edu.checks import ExerciseNotDone
from slowfast_edu.notebooks import student_notebook

from .conftest import NOTEBOOKS, PATHS, exercises, read

WITH_EXERCISES = [p for p in PATHS if exercises(read(p))]


@pytest.fixture
def shell(monkeypatch):
    """IPython's shell with the notebooks' environment: smoke mode, cwd notebooks/."""
    InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell
    monkeypatch.setenv("SLOWFAST_EDU_SMOKE", "1")
    monkeypatch.chdir(NOTEBOOKS)
    backend = matplotlib.get_backend()
    shell = InteractiveShell.instance()
    shell.enable_gui = lambda gui=None: None  # `%matplotlib inline` without a kernel
    shell.reset(new_session=True)
    yield shell
    shell.reset(new_session=True)
    import matplotlib.pyplot as plt

    plt.close("all")
    matplotlib.use(backend)


def run(shell, source: str) -> BaseException | None:
    """Run one cell; the exception it raised, or None."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        result = shell.run_cell(source, store_history=False)
    return result.error_before_exec or result.error_in_exec


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_student_versions_stop_and_solutions_pass_their_checks(path, shell):
    nb = read(path)
    student = student_notebook(nb, path.name)
    pairs = dict(exercises(nb))
    last = max(pairs.values())
    for index, cell in enumerate(nb.cells[: last + 1]):
        if cell.cell_type != "code":
            continue
        where = f"{path.name}, cell {index}"
        if index in pairs:
            error = run(shell, student.cells[index].source)
            if error is None:
                error = run(shell, nb.cells[pairs[index]].source)
            assert isinstance(error, (NotImplementedError, ExerciseNotDone)), \
                f"{where}: the student version does not stop with 'not done yet': {error!r}"
            if isinstance(error, NotImplementedError):
                assert "Exercise" in str(error), f"{where}: {error}"
        error = run(shell, cell.source)
        assert error is None, f"{where} raised {type(error).__name__}: {error}"
