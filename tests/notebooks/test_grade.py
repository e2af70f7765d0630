"""The grader: a folder of generated submissions (right, wrong, broken, hanging, empty) is scored
correctly within its time limits, one row per student and exercise, and leaves nothing behind."""

from __future__ import annotations

import csv
import json
import tempfile
import time

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from slowfast_edu.cli import main
from slowfast_edu.notebooks import student_notebook

SOLUTION_1 = "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION"
SOLUTION_2 = "def square(x):\n    # BEGIN SOLUTION\n    return x * x\n    # END SOLUTION"
CHECK_1 = 'assert double(3) == 6, f"double(3) is {double(3)}, expected 6"'
CHECK_2 = "assert square(4) == 16 and square(-3) == 9"


def course(folder):
    """A two-exercise, one-question course notebook (pure Python: no torch to import)."""
    solution = new_code_cell(SOLUTION_1)
    solution.metadata["slowfast_edu"] = {"points": 2}
    nb = new_notebook(cells=[
        new_markdown_cell("# 01 · Tiny"), new_code_cell("import os\nSTART = 1"),
        new_markdown_cell("### Exercise 1: double it"), solution, new_code_cell(CHECK_1),
        new_markdown_cell("### Exercise 2: square it"), new_code_cell(SOLUTION_2),
        new_code_cell(CHECK_2), new_markdown_cell("**Question 1.** Why square?"),
        new_markdown_cell("**Answer.** Because."), new_code_cell("print('after the checks')"),
        new_markdown_cell("## Summary")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    folder.mkdir()
    nbformat.write(nb, folder / "01_tiny.ipynb")
    return nb


def submission(template, first=None, second=None, answer=None, check=None):
    """The student version with the exercise cells (3 and 6) filled in."""
    nb = nbformat.from_dict(json.loads(json.dumps(template)))
    if first is not None:
        nb.cells[3].source = first
    if second is not None:
        nb.cells[6].source = second
    if answer is not None:
        nb.cells[9].source = answer
    if check is not None:
        nb.cells[4].source = check  # a student "fixing" the check: the grader uses the original
    return nb


def test_grades_a_folder_of_submissions(tmp_path, monkeypatch, capsys):
    instructor = course(tmp_path / "course")
    student = student_notebook(instructor, "01_tiny.ipynb")
    right_1, right_2 = "def double(x):\n    return x + x", "def square(x):\n    return x ** 2"
    online = ("def square(x):\n    import socket\n    try:\n"
              "        socket.create_connection(('8.8.8.8', 53), timeout=1)\n"
              "    except OSError as e:\n        assert 'no network while grading' in str(e)\n"
              "        return x * x\n    return 0")
    subs = tmp_path / "subs"
    cases = {
        "alice": submission(student, right_1, right_2, "**Your answer.** Fewer parameters."),
        "bob": submission(student, "def double(x):\n    return x + 2", online, check="pass"),
        "carol": submission(student, "def double(x) return 2 * x", right_2),
        "dave": submission(student, "def double(x):\n    while True:\n        pass", right_2),
        "erin": submission(student, "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)"
                                    "\nwhile True:\n    pass", right_2),
        "gina": student,  # handed in untouched
    }
    for name, nb in cases.items():
        (subs / name).mkdir(parents=True)
        nbformat.write(nb, subs / name / "01_tiny.ipynb")
    (subs / "frank").mkdir()  # an empty folder
    (subs / "hugo.ipynb").write_text('{"cells": [')  # broken JSON, in the flat layout
    (subs / "ivan").mkdir()
    (subs / "ivan" / "01_tiny.ipynb").write_bytes(b"")  # an empty file
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    start = time.perf_counter()
    code = main(["notebooks", "grade", str(subs), "--src", str(tmp_path / "course"),
                 "--out", str(tmp_path / "grades.csv"), "--cell-timeout", "2", "--timeout", "5",
                 "--jobs", "2"])
    seconds = time.perf_counter() - start
    assert code == 0
    out = capsys.readouterr().out
    assert "alice" in out and "3 / 3 points" in out and f"wrote {tmp_path / 'grades.csv'}" in out
    assert seconds < 30, f"grading took {seconds:.1f} s"

    with open(tmp_path / "grades.csv", newline="") as f:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}
    score = {key: (float(r["score"]), r["status"]) for key, r in rows.items()}
    assert score[("alice", "1")] == (2.0, "passed") and score[("alice", "2")] == (1.0, "passed")
    assert score[("bob", "1")][0] == 0 and score[("bob", "1")][1].startswith(
        "wrong: AssertionError: double(3) is 5, expected 6")  # the instructor's check, not "pass"
    assert score[("bob", "2")] == (1.0, "passed")  # its network call was refused
    assert score[("carol", "1")][0] == 0 and "SyntaxError" in score[("carol", "1")][1]
    assert score[("carol", "2")] == (1.0, "passed")
    assert score[("dave", "1")] == (0.0, "timeout: the check cell ran over its time limit")
    assert score[("dave", "2")] == (1.0, "passed")  # the hang cost only its own exercise
    assert score[("erin", "1")] == (0.0, "timeout: the notebook ran over 5 s")
    assert score[("erin", "2")] == (0.0, "timeout: the notebook ran over 5 s")
    assert score[("gina", "1")] == (0.0, "not done") and score[("gina", "2")] == (0.0, "not done")
    assert score[("frank", "1")] == (0.0, "not submitted")
    assert score[("hugo", "-")][0] == 0 and score[("hugo", "-")][1].startswith(
        "unreadable notebook hugo.ipynb")
    assert score[("ivan", "1")][1] == ("unreadable notebook 01_tiny.ipynb: ValueError: the file "
                                       "is empty")
    students = {s for s, _ in rows}
    assert students == {"alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo", "ivan"}
    assert all(r["notebook"] == "01_tiny" and r["title"].startswith(f"Exercise {r['exercise']}:")
               for (s, _), r in rows.items() if s != "hugo")

    answers = (tmp_path / "grades_answers.md").read_text()
    assert "## 01_tiny, question 1 (1 points)" in answers
    assert "**alice**: **Your answer.** Fewer parameters." in answers
    assert "**gina**: *(no answer)*" in answers and "Because" not in answers
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing left behind
