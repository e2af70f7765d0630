"""The student version of the course notebooks: the same notebooks without solutions or answers.

The repository keeps the instructor version in `notebooks/` (see `course.py` for the markers).
The student version, generated into `notebooks/student/` and committed there so that Colab can open
it, differs from it in exactly these ways:

- each `# BEGIN SOLUTION` ... `# END SOLUTION` block becomes `raise NotImplementedError("Exercise N:
  ...")` at the block's indentation;
- each `**Answer.**` cell becomes an empty `**Your answer.**` cell for the student to fill in;
- the Colab badge and the Colab set-up cell open `notebooks/student/`, and relative links (the
  glossary) point one folder up;
- outputs are cleared, and the metadata says which notebook, exercise, check and question each
  cell is (`{"slowfast_edu": {...}}`), which is how `slowfast-edu notebooks grade` finds them.

    slowfast-edu notebooks student            # notebooks/ -> notebooks/student/
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from .course import (ANSWER, BEGIN, END, META, SolutionMarkerError, exercises, list_notebooks,
                     numbering_errors, questions)

STUDENT_DIR = "student"  # the student version's folder, inside the instructor's
YOUR_ANSWER = "**Your answer.** *(double-click this cell and write your answer here)*"
_BADGE = re.compile(r"(colab\.research\.google\.com/github/[^)\s]*?/notebooks/)([^/)\s]+\.ipynb)")
_COLAB_CD = re.compile(r"^(\s*%cd\s+\S*/notebooks)/?\s*$", re.MULTILINE)
_RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#|/)([^)\s]+)\)")


def strip_solution(source: str, message: str, where: str = "cell") -> str:
    """`source` with each BEGIN/END SOLUTION block replaced by `raise NotImplementedError(message)`.

    `where` names the cell in errors ("03_two_pathways.ipynb, cell 12").
    """
    out: list[str] = []
    indent: str | None = None
    start = 0
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if indent is not None:
                raise SolutionMarkerError(f"{where}: line {number} opens a solution block inside "
                                          f"the one opened at line {start} (missing {END!r}?)")
            indent, start = line[: len(line) - len(line.lstrip())], number
            out.append(f"{indent}raise NotImplementedError({_quoted(message)})")
        elif marker.startswith(END):
            if indent is None:
                raise SolutionMarkerError(f"{where}: line {number} closes a solution block that "
                                          f"was never opened (missing {BEGIN!r}?)")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise SolutionMarkerError(f"{where}: the solution block opened at line {start} is never "
                                  f"closed (missing {END!r})")
    return "\n".join(out)


def _quoted(text: str) -> str:
    """`text` as a double-quoted Python string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def clear_outputs(nb: Any) -> Any:
    """Remove outputs, execution counts and saved widget state, in place; returns `nb`."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def student_links(source: str) -> str:
    """A markdown cell's Colab badge and relative links as seen from `notebooks/student/`."""
    source = _BADGE.sub(lambda m: m.group(1) + f"{STUDENT_DIR}/" + m.group(2)
                        if not m.group(1).endswith(f"/{STUDENT_DIR}/") else m.group(0), source)
    return _RELATIVE_LINK.sub(lambda m: f"](../{m.group(1)})", source)


def student_notebook(nb: Any, name: str = "notebook") -> Any:
    """A copy of `nb` without solutions, answers or outputs, set up to run from
    `notebooks/student/`; `name` is the notebook's file name (for errors and the metadata)."""
    import nbformat

    nb = clear_outputs(nbformat.from_dict(copy.deepcopy(nb)))
    for index, cell in enumerate(nb.cells):  # broken markers first, named precisely
        if cell.cell_type != "code" and (BEGIN in cell.source or END in cell.source):
            raise SolutionMarkerError(f"{name}, cell {index}: a solution marker in a "
                                      f"{cell.cell_type} cell (only code cells hold solutions)")
        if cell.cell_type == "code":
            strip_solution(cell.source, "", f"{name}, cell {index}")
    errors = numbering_errors(nb, name)
    if errors:
        raise SolutionMarkerError("; ".join(errors) + " (run `slowfast-edu notebooks renumber`)")
    found, asked = exercises(nb, name), questions(nb, name)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = student_links(cell.source)
        elif '"google.colab" in sys.modules' in cell.source:
            cell.source = _COLAB_CD.sub(lambda m: f"{m.group(1)}/{STUDENT_DIR}", cell.source)
    for exercise in found:
        cell = nb.cells[exercise.cell]
        cell.source = strip_solution(cell.source, exercise.title, f"{name}, cell {exercise.cell}")
        cell.metadata[META] = {"exercise": exercise.number, "points": exercise.points}
        if exercise.check >= 0:
            nb.cells[exercise.check].metadata[META] = {"check": exercise.number}
    for question in asked:
        cell = nb.cells[question.answer]
        cell.source = YOUR_ANSWER
        cell.metadata[META] = {"question": question.number, "points": question.points}
    nb.metadata[META] = {"notebook": Path(name).stem, "version": "student"}
    return nb


def is_student_notebook(nb: Any) -> bool:
    """True for a notebook `student_notebook` wrote."""
    return nb.metadata.get(META, {}).get("version") == "student"


def make_student_version(src_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write every notebook of `src_dir` to `out_dir` (default: `src_dir/student`) without
    solutions, answers or outputs; remove student notebooks there whose source is gone."""
    import nbformat

    src = Path(src_dir)
    out = Path(out_dir) if out_dir is not None else src / STUDENT_DIR
    notebooks = list_notebooks(src)
    if not notebooks:
        raise FileNotFoundError(f"no .ipynb notebooks in {src}")
    if out.resolve() == src.resolve():
        raise ValueError(f"--out {out} is the source folder: writing there would delete the "
                         f"solutions; choose another folder")
    students = []
    for path in notebooks:  # every notebook is checked before anything is written
        nb = nbformat.read(path, as_version=4)
        students.append(student_notebook(nb, path.name))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in zip(notebooks, students):
        nbformat.validate(nb)
        target = out / path.name
        text = nbformat.writes(nb) + "\n"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    names = {p.name for p in notebooks}
    for stale in list_notebooks(out):
        if stale.name not in names and is_student_notebook(nbformat.read(stale, as_version=4)):
            stale.unlink()
    return written


def answer_texts(nb: Any) -> list[str]:
    """The instructor's answers of `nb` (without the `**Answer.**` marker)."""
    return [nb.cells[q.answer].source.lstrip()[len(ANSWER):].strip() for q in questions(nb)]
