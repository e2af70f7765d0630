"""The course's structure, read from the notebooks themselves: exercises, checks, questions, points.

An instructor marks things in the notebook, never in a test or a list:

- an **exercise** is a code cell holding a solution between the lines `# BEGIN SOLUTION` and
  `# END SOLUTION`, under a markdown heading `### Exercise N: title`; the next code cell is its
  **check** (it calls the checks of `slowfast_edu.checks` or `slowfast_edu.exercises`);
- a **conceptual question** is a markdown cell starting `**Question N.**`, followed by a markdown
  cell starting `**Answer.**` with the instructor's answer;
- **points** live in the cell metadata: `{"slowfast_edu": {"points": 2}}` on the solution cell or
  the answer cell (1 when absent).

`renumber(nb)` numbers the exercises and questions in order (and the references to them in the
same notebook), so inserting one is one command: `slowfast-edu notebooks renumber`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
ANSWER = "**Answer.**"
META = "slowfast_edu"  # the key of this package's cell and notebook metadata
EXERCISE_TITLE = re.compile(r"^#+\s*(Exercise\s+(\d+)\s*:.*?)\s*$", re.MULTILINE)
QUESTION = re.compile(r"^\*\*Question\s+(\d+)\.\*\*")


class SolutionMarkerError(ValueError):
    """A notebook's solution or answer markers do not pair up."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number and title, its solution cell, its check cell, its points."""

    number: int
    title: str  # "Exercise 1: which frames does the Slow pathway see?"
    cell: int  # index of the code cell holding the solution
    check: int  # index of the code cell that checks it (-1: none)
    points: float = 1


@dataclass(frozen=True)
class Question:
    """One conceptual question: the markdown cell asking it and the one holding the answer."""

    number: int
    cell: int  # index of the "**Question N.**" markdown cell
    answer: int  # index of the "**Answer.**" markdown cell
    points: float = 1


def list_notebooks(src_dir: str | Path) -> list[Path]:
    """The notebooks in `src_dir` in course order (by file name; Jupyter checkpoints skipped)."""
    src = Path(src_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder of notebooks")
    return sorted(p for p in src.glob("*.ipynb") if p.is_file())


def is_exercise_cell(cell: Any) -> bool:
    """True for a code cell holding a solution block."""
    return cell.cell_type == "code" and any(line.strip().startswith(BEGIN)
                                            for line in cell.source.splitlines())


def is_answer_cell(cell: Any) -> bool:
    """True for a markdown cell holding an instructor's answer."""
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith(ANSWER)


def points(cell: Any) -> float:
    """The points a cell's metadata gives (`{"slowfast_edu": {"points": P}}`), 1 by default."""
    value = cell.metadata.get(META, {}).get("points", 1)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"points must be a number >= 0, got {value!r}")
    return value


def exercises(nb: Any, name: str = "notebook") -> list[Exercise]:
    """Every exercise of `nb`, in order; its title is the last "Exercise N:" heading above it."""
    found, title = [], None
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            titles = EXERCISE_TITLE.findall(cell.source)
            title = titles[-1][0] if titles else title
        elif is_exercise_cell(cell):
            if title is None:
                raise SolutionMarkerError(f"{name}, cell {index}: a solution without an "
                                          f"'### Exercise N: title' heading above it")
            following = [j for j in code if j > index]
            try:
                value = points(cell)
            except ValueError as e:
                raise ValueError(f"{name}, cell {index}: {e}") from None
            found.append(Exercise(len(found) + 1, title, index,
                                  following[0] if following else -1, value))
    return found


def questions(nb: Any, name: str = "notebook") -> list[Question]:
    """Every conceptual question of `nb` with its answer cell, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if not is_answer_cell(cell):
            if cell.cell_type == "markdown" and ANSWER in cell.source:
                raise SolutionMarkerError(f"{name}, cell {index}: {ANSWER!r} must start its own "
                                          f"markdown cell (the cell after the question)")
            continue
        before = nb.cells[index - 1] if index else None
        if before is None or before.cell_type != "markdown" or not QUESTION.match(
                before.source.lstrip()):
            raise SolutionMarkerError(f"{name}, cell {index}: an answer cell must follow a "
                                      f"markdown cell starting '**Question N.**'")
        try:
            value = points(cell)
        except ValueError as e:
            raise ValueError(f"{name}, cell {index}: {e}") from None
        found.append(Question(len(found) + 1, index - 1, index, value))
    return found


def numbering_errors(nb: Any, name: str = "notebook") -> list[str]:
    """What is numbered out of order: exercise headings and questions must count 1, 2, 3, ..."""
    errors = []
    headings = [int(n) for c in nb.cells if c.cell_type == "markdown"
                for _, n in EXERCISE_TITLE.findall(c.source)]
    if headings != list(range(1, len(headings) + 1)):
        errors.append(f"{name}: exercises numbered {headings}")
    asked = [int(QUESTION.match(c.source.lstrip()).group(1)) for c in nb.cells
             if c.cell_type == "markdown" and QUESTION.match(c.source.lstrip())]
    if asked != list(range(1, len(asked) + 1)):
        errors.append(f"{name}: questions numbered {asked}")
    return errors


def renumber(nb: Any) -> list[str]:
    """Number the exercises and questions of `nb` 1, 2, 3, ... in order, in place, and the
    references to them ("Exercise 2", "Question 3") in the same notebook; returns the changes."""
    changes = []
    for kind, pattern in (("Exercise", re.compile(r"^(#+\s*Exercise\s+)(\d+)(\s*:)", re.M)),
                          ("Question", re.compile(r"^(\s*\*\*Question\s+)(\d+)(\.\*\*)"))):
        mapping: dict[str, str] = {}
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue

            def number(match: re.Match) -> str:
                nonlocal count
                count += 1
                mapping.setdefault(match.group(2), str(count))
                return f"{match.group(1)}{count}{match.group(3)}"

            cell.source = pattern.sub(number, cell.source)
        moved = {old: new for old, new in mapping.items() if old != new}
        if not moved:
            continue
        reference = re.compile(rf"\b{kind} (\d+)\b")
        for cell in nb.cells:  # the headings hold their new numbers: only references change
            cell.source = _renumber_references(cell.source, pattern, reference, kind, moved)
        changes += [f"{kind} {old} -> {new}" for old, new in moved.items()]
    return changes


def _renumber_references(source: str, heading: re.Pattern, reference: re.Pattern, kind: str,
                         moved: dict[str, str]) -> str:
    """`source` with "{kind} N" renumbered by `moved` everywhere but inside its headings."""

    def renumbered(text: str) -> str:
        return reference.sub(lambda m: f"{kind} {moved.get(m.group(1), m.group(1))}", text)

    parts, last = [], 0
    for match in heading.finditer(source):
        parts += [renumbered(source[last:match.start()]), match.group(0)]
        last = match.end()
    return "".join(parts) + renumbered(source[last:])
