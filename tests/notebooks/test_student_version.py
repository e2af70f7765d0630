"""The committed student version (notebooks/student/): current, without any solution or answer,
opening itself in Colab and running from its own folder."""

from __future__ import annotations

import re

import nbformat

from slowfast_edu.notebooks import (BEGIN, END, answer_texts, exercises, is_student_notebook,
                                    student_notebook)
from slowfast_edu.notebooks.student import YOUR_ANSWER

from .conftest import PATHS, STUDENT, read
from .test_committed import BADGE, COLAB_CELL

REGENERATE = "regenerate it: slowfast-edu notebooks student"


def _solution_lines(nb) -> set[str]:
    """The lines of the solutions that appear nowhere else in the notebook (the giveaways)."""
    inside, elsewhere = set(), set()
    for cell in nb.cells:
        block = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith(BEGIN) or stripped.startswith(END):
                block = stripped.startswith(BEGIN)
                continue
            (inside if block else elsewhere).add(stripped)
    return {line for line in inside - elsewhere if len(line) >= 12 and not line.startswith("#")}


def test_the_student_folder_holds_exactly_the_course():
    assert sorted(p.name for p in STUDENT.glob("*.ipynb")) == [p.name for p in PATHS], \
        f"notebooks/student/ is not the course's student version: {REGENERATE}"


def test_student_notebooks_are_current(notebook_path):
    committed = STUDENT / notebook_path.name
    expected = nbformat.writes(student_notebook(read(notebook_path), notebook_path.name)) + "\n"
    assert committed.is_file() and committed.read_text(encoding="utf-8") == expected, \
        f"notebooks/student/{notebook_path.name} is older than its instructor version: {REGENERATE}"


def test_no_solution_or_answer_leaks_into_the_student_version(notebook_path):
    nb, text = read(notebook_path), (STUDENT / notebook_path.name).read_text(encoding="utf-8")
    student = read(STUDENT / notebook_path.name)
    assert BEGIN not in text and END not in text
    source = "\n".join(c.source for c in student.cells)
    leaked = [line for line in _solution_lines(nb) if line in source]
    assert not leaked, f"{notebook_path.name}: solution lines in the student version: {leaked}"
    for answer in answer_texts(nb):
        sentences = [s.strip() for s in re.split(r"(?<=[.:;])\s", answer) if len(s.strip()) > 25]
        assert sentences and not [s for s in sentences if s in source], \
            f"{notebook_path.name}: an instructor answer is in the student version"
    assert "**Answer.**" not in source
    assert source.count(YOUR_ANSWER) == len(answer_texts(nb))


def test_student_badge_colab_cell_links_and_metadata(notebook_path):
    student = read(STUDENT / notebook_path.name)
    assert is_student_notebook(student)
    assert student.metadata.slowfast_edu.notebook == notebook_path.stem
    first = student.cells[0].source
    assert BADGE.format(folder="student/", name=notebook_path.name) in first, \
        f"{notebook_path.name}: the student badge must open the student version"
    assert "/notebooks/" + notebook_path.name not in first
    assert "](../GLOSSARY.md)" in first and (STUDENT / "../GLOSSARY.md").is_file()
    assert student.cells[1].source == COLAB_CELL + "/student", \
        "the student Colab cell must change into notebooks/student, never the instructor folder"
    for e in exercises(read(notebook_path), notebook_path.name):
        assert student.cells[e.cell].metadata.slowfast_edu == {"exercise": e.number,
                                                               "points": e.points}
        assert student.cells[e.check].metadata.slowfast_edu == {"check": e.number}
        assert re.search(rf'raise NotImplementedError\("Exercise {e.number}: ',
                         student.cells[e.cell].source)
    relative = [link for c in student.cells if c.cell_type == "markdown"
                for link in re.findall(r"\]\((?!https?:|#)([^)]+)\)", c.source)]
    assert all(link.startswith("../") for link in relative), relative
    assert all((STUDENT / link).exists() for link in relative), relative


def test_only_solutions_answers_and_links_differ(notebook_path):
    nb, student = read(notebook_path), read(STUDENT / notebook_path.name)
    assert len(nb.cells) == len(student.cells)
    changed = {i for i, (a, b) in enumerate(zip(nb.cells, student.cells)) if a.source != b.source}
    allowed = ({e.cell for e in exercises(nb)} | {0, 1} | {
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and (
            "](" in c.source or c.source.startswith("**Answer.**"))})
    assert changed <= allowed, f"{notebook_path.name}: cells {sorted(changed - allowed)} changed"
