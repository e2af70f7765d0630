"""The student version: solutions and answers out, links and Colab set up for notebooks/student/,
everything else kept; broken markers named precisely; exercises renumbered in one command."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from slowfast_edu.cli import main
from slowfast_edu.notebooks import (BEGIN, END, SolutionMarkerError, exercises, list_notebooks,
                                    make_student_version, questions, renumber, strip_solution,
                                    student_notebook)
from slowfast_edu.notebooks.student import YOUR_ANSWER

from .conftest import NOTEBOOKS, PATHS, read

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
    exercise.metadata["slowfast_edu"] = {"points": 3}
    nb = _notebook(new_markdown_cell("### Exercise 1: double it\n\nWrite `double`."), exercise,
                   new_code_cell("check_close(result, 6)", execution_count=4))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    student = student_notebook(nb, "01_x.ipynb")
    nbformat.validate(student)
    assert "widgets" not in student.metadata and "execution" not in student.cells[1].metadata
    assert [c.get("outputs") for c in student.cells[1:]] == [[], []]
    assert [c.get("execution_count") for c in student.cells[1:]] == [None, None]
    assert student.cells[1].source.count('raise NotImplementedError("Exercise 1: double it")') == 2
    assert student.cells[1].metadata["slowfast_edu"] == {"exercise": 1, "points": 3}
    assert student.cells[2].metadata["slowfast_edu"] == {"check": 1}
    assert student.metadata["slowfast_edu"] == {"notebook": "01_x", "version": "student"}
    assert nb.cells[1].outputs and nb.cells[1].source == EXERCISE  # the original is untouched


def test_answers_badge_colab_cell_and_links_for_the_student_folder():
    header = new_markdown_cell("# 01 · X\n\n[![Open In Colab](https://colab.research.google.com/"
                               "assets/colab-badge.svg)](https://colab.research.google.com/github/"
                               "o/r/blob/main/notebooks/01_x.ipynb)\n\nSee the [glossary]"
                               "(GLOSSARY.md), [the docs](../docs/a.md), [a site](https://x.org) "
                               "and [a section](#top).")
    colab = new_code_cell('import sys\nif "google.colab" in sys.modules:\n'
                          '    %cd /content/r/notebooks')
    answer = new_markdown_cell("**Answer.** Because beta is small.")
    answer.metadata["slowfast_edu"] = {"points": 2}
    nb = _notebook(header, colab, new_markdown_cell("**Question 1.** Why?"), answer)
    student = student_notebook(nb, "01_x.ipynb")
    first = student.cells[0].source
    assert "blob/main/notebooks/student/01_x.ipynb)" in first
    assert "(../GLOSSARY.md)" in first and "(../../docs/a.md)" in first
    assert "(https://x.org)" in first and "(#top)" in first
    assert student.cells[1].source.endswith("%cd /content/r/notebooks/student")
    assert student.cells[3].source == YOUR_ANSWER and "beta" not in student.cells[3].source
    assert student.cells[3].metadata["slowfast_edu"] == {"question": 1, "points": 2}
    assert questions(nb) and questions(nb)[0].points == 2
    with pytest.raises(SolutionMarkerError, match="must follow a markdown cell starting"):
        student_notebook(_notebook(new_markdown_cell("**Answer.** Lost.")), "nb.ipynb")


def test_misnumbered_exercises_are_refused_and_renumber_fixes_them():
    cells = [new_markdown_cell("### Exercise 2: first"), new_code_cell(f"{BEGIN}\nx = 1\n{END}"),
             new_markdown_cell("### Exercise 2: second (see Exercise 2 above)"),
             new_code_cell(f"{BEGIN}\ny = 2\n{END}"),
             new_markdown_cell("**Question 3.** Why?"), new_markdown_cell("**Answer.** So.")]
    nb = _notebook(*cells)
    with pytest.raises(SolutionMarkerError, match=r"exercises numbered \[2, 2\].*renumber"):
        student_notebook(nb, "nb.ipynb")
    assert renumber(nb) == ["Exercise 2 -> 1", "Question 3 -> 1"]
    assert [c.source for c in nb.cells[::2]] == ["### Exercise 1: first",
                                                "### Exercise 2: second (see Exercise 1 above)",
                                                "**Question 1.** Why?"]
    assert [e.title for e in exercises(nb)] == ["Exercise 1: first",
                                                "Exercise 2: second (see Exercise 1 above)"]
    assert renumber(nb) == []


def test_make_student_version_of_the_course(tmp_path):
    written = make_student_version(NOTEBOOKS, tmp_path)
    assert [p.name for p in written] == [p.name for p in PATHS]
    for source_path, path in zip(PATHS, written):
        nb, student = read(source_path), nbformat.read(path, as_version=4)
        nbformat.validate(student)
        assert BEGIN not in path.read_text() and END not in path.read_text()
        assert len(student.cells) == len(nb.cells)
        solution_cells = {e.cell for e in exercises(nb)}
        for i, (a, b) in enumerate(zip(nb.cells, student.cells)):
            assert a.cell_type == b.cell_type
            if i in solution_cells:  # the lines outside the solution blocks, in order
                outside = [line for line in b.source.splitlines()
                           if "raise NotImplementedError" not in line]
                assert all(line in a.source.splitlines() for line in outside)
    (tmp_path / "99_gone.ipynb").write_text(written[0].read_text())  # a notebook since deleted
    (tmp_path / "mine.ipynb").write_text(nbformat.writes(_notebook()))  # not a student notebook
    make_student_version(NOTEBOOKS, tmp_path)
    assert not (tmp_path / "99_gone.ipynb").exists() and (tmp_path / "mine.ipynb").exists()


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
    assert main(["notebooks", "student", "--src", str(tmp_path / "src")]) == 0  # into src/student
    assert (tmp_path / "src" / "student" / "01_x.ipynb").is_file()
    capsys.readouterr()
    student = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4)
    assert 'raise NotImplementedError("Exercise 1: double it")' in student.cells[1].source
    _write(tmp_path / "bad", "01_x.ipynb", _notebook(new_code_cell(BEGIN)))
    assert main(["notebooks", "student", "--out", str(tmp_path / "o2"),
                 "--src", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err.startswith("error: 01_x.ipynb, cell 0: the solution block")
