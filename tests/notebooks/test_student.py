"""The student version: solutions out, everything else kept; broken markers named precisely."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from slowfast_edu.cli import main
from slowfast_edu.notebooks import (BEGIN, END, SolutionMarkerError, list_notebooks,
                                    make_student_version, strip_solution, student_notebook)

from .conftest import NOTEBOOKS, PATHS, exercises, read

EXERCISE = '''def double(x):
    """Twice x."""
    # BEGIN SOLUTION
    y = 2 * x
    return y
    # END SOLUTION

result = None
# BEGIN SOLUTION
result = double(3)
# END SOLUTION'''


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def _write(folder, name, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


def test_strip_solution_keeps_indentation_and_everything_else():
    stripped = strip_solution(EXERCISE, "Exercise 1: double it")
    assert stripped == '''def double(x):
    """Twice x."""
    raise NotImplementedError("Exercise 1: double it")

result = None
raise NotImplementedError("Exercise 1: double it")'''
    namespace: dict = {}
    exec(stripped.split("\nresult")[0], namespace)  # the function still defines
    with pytest.raises(NotImplementedError, match="Exercise 1: double it"):
        namespace["double"](3)


@pytest.mark.parametrize("source, message", [
    (f"x = 1\n{BEGIN}\nx = 2\n", "the solution block opened at line 2 is never closed"),
    (f"x = 1\n{END}\n", "line 2 closes a solution block that was never opened"),
    (f"{BEGIN}\n{BEGIN}\n{END}\n", "line 2 opens a solution block inside the one opened at line 1"),
])
def test_unbalanced_markers_name_the_notebook_cell_and_line(tmp_path, source, message):
    nb = _notebook(new_markdown_cell("# 01 · X"), new_code_cell("import os"), new_code_cell(source))
    _write(tmp_path / "src", "01_x.ipynb", nb)
    with pytest.raises(SolutionMarkerError) as e:
        make_student_version(tmp_path / "src", tmp_path / "out")
    assert str(e.value).startswith(f"01_x.ipynb, cell 2: {message}")
    assert not (tmp_path / "out").exists()  # nothing is written when a notebook is broken


def test_the_raise_quotes_any_title():
    title = 'Exercise 3: the "T-conv" \\ it\'s fine'
    stripped = strip_solution(f"{BEGIN}\nx = 1\n{END}", title)
    with pytest.raises(NotImplementedError) as e:
        exec(stripped)
    assert str(e.value) == title and stripped.startswith('raise NotImplementedError("Exercise 3')


def test_marker_in_a_markdown_cell_is_an_error():
    nb = _notebook(new_markdown_cell(f"```\n{BEGIN}\n```"))
    with pytest.raises(SolutionMarkerError, match="nb.ipynb, cell 0: a solution marker in a "
                                                  "markdown cell"):
        student_notebook(nb, "nb.ipynb")


def test_student_notebook_clears_outputs_and_widget_state_and_titles_the_raise():
    exercise = new_code_cell(EXERCISE, execution_count=3,
                             outputs=[new_output("stream", name="stdout", text="6\n")])
    exercise.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb = _notebook(new_markdown_cell("### Exercise 2: double it\n\nWrite `double`."), exercise,
                   new_code_cell("check_close(result, 6)", execution_count=4))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    student = student_notebook(nb, "nb.ipynb")
    nbformat.validate(student)
    assert "widgets" not in student.metadata and "execution" not in student.cells[1].metadata
    assert [c.get("outputs") for c in student.cells[1:]] == [[], []]
    assert [c.get("execution_count") for c in student.cells[1:]] == [None, None]
    assert student.cells[1].source.count('raise NotImplementedError("Exercise 2: double it")') == 2
    assert nb.cells[1].outputs and nb.cells[1].source == EXERCISE  # the original is untouched


def test_make_student_version_of_the_course(tmp_path):
    written = make_student_version(NOTEBOOKS, tmp_path)
    assert [p.name for p in written] == [p.name for p in PATHS]
    for source_path, path in zip(PATHS, written):
        nb, student = read(source_path), nbformat.read(path, as_version=4)
        nbformat.validate(student)
        assert BEGIN not in path.read_text() and END not in path.read_text()
        assert len(student.cells) == len(nb.cells)
        solution_cells = {i for i, _ in exercises(nb)}
        for i, (a, b) in enumerate(zip(nb.cells, student.cells)):
            assert (a.cell_type, a.metadata) == (b.cell_type, b.metadata)
            if i not in solution_cells:
                assert a.source == b.source, f"{path.name}, cell {i} changed"
            else:  # the lines outside the solution blocks, in order
                outside = [line for line in b.source.splitlines()
                           if "raise NotImplementedError" not in line]
                assert all(line in a.source.splitlines() for line in outside)
        assert nb.metadata == student.metadata


def test_out_folder_must_differ_from_the_source(tmp_path):
    _write(tmp_path, "00_a.ipynb", _notebook(new_markdown_cell("# 00 · A")))
    with pytest.raises(ValueError, match="is the source folder"):
        make_student_version(tmp_path, tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .ipynb notebooks in"):
        make_student_version(tmp_path / "empty", tmp_path / "out")


def test_list_notebooks_in_course_order_without_checkpoints(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "00_c.ipynb"):
        _write(tmp_path, name, _notebook())
    _write(tmp_path / ".ipynb_checkpoints", "02_a-checkpoint.ipynb", _notebook())
    assert [p.name for p in list_notebooks(tmp_path)] == ["00_c.ipynb", "02_a.ipynb", "10_b.ipynb"]
    with pytest.raises(FileNotFoundError, match="is not a folder of notebooks"):
        list_notebooks(tmp_path / "missing")


def test_cli_writes_the_student_version(tmp_path, capsys):
    nb = _notebook(new_markdown_cell("### Exercise 1: double it"), new_code_cell(EXERCISE))
    _write(tmp_path / "src", "01_x.ipynb", nb)
    assert main(["notebooks", "student", "--out", str(tmp_path / "out"),
                 "--src", str(tmp_path / "src")]) == 0
    assert capsys.readouterr().out == f"wrote 1 student notebooks to {tmp_path / 'out'}\n"
    student = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4)
    assert 'raise NotImplementedError("Exercise 1: double it")' in student.cells[1].source
    _write(tmp_path / "bad", "01_x.ipynb", _notebook(new_code_cell(BEGIN)))
    assert main(["notebooks", "student", "--out", str(tmp_path / "o2"),
                 "--src", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err.startswith("error: 01_x.ipynb, cell 0: the solution block")
