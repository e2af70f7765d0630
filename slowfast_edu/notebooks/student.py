"""The student version of the course notebooks: the same notebooks without the solutions.

The repository keeps the instructor version: every exercise's solution sits in a code cell between
the lines `# BEGIN SOLUTION` and `# END SOLUTION`. The student version replaces each such block by
`raise NotImplementedError("Exercise N: ...")` at the block's indentation (the title comes from the
exercise's "### Exercise N: ..." markdown cell above it), with all outputs cleared.

    slowfast-edu notebooks student --out student_notebooks/
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_EXERCISE_TITLE = re.compile(r"^#+\s*(Exercise\s+\d+\s*:.*?)\s*$", re.MULTILINE)


class SolutionMarkerError(ValueError):
    """A notebook's BEGIN/END SOLUTION markers do not pair up."""


def list_notebooks(src_dir: str | Path) -> list[Path]:
    """The notebooks in `src_dir` in course order (by file name; Jupyter checkpoints skipped)."""
    src = Path(src_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder of notebooks")
    return sorted(p for p in src.glob("*.ipynb") if p.is_file())


def is_exercise_cell(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell holding a solution block."""
    return cell.cell_type == "code" and any(line.strip().startswith(BEGIN)
                                            for line in cell.source.splitlines())


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


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs, execution counts and saved widget state, in place; returns `nb`."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of `nb` with its solutions removed and its outputs cleared."""
    nb = clear_outputs(nbformat.from_dict(nb))
    title = "Exercise: write your solution here"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found = _EXERCISE_TITLE.findall(cell.source)
            title = found[-1] if found else title
        elif cell.cell_type == "code":
            cell.source = strip_solution(cell.source, title, f"{name}, cell {index}")
        if cell.cell_type != "code" and (BEGIN in cell.source or END in cell.source):
            raise SolutionMarkerError(f"{name}, cell {index}: a solution marker in a "
                                      f"{cell.cell_type} cell (only code cells hold solutions)")
    return nb


def make_student_version(src_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write every notebook of `src_dir` to `out_dir` without solutions or outputs."""
    src, out = Path(src_dir), Path(out_dir)
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
        nbformat.write(nb, out / path.name)
        written.append(out / path.name)
    return written


def add_notebooks_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `notebooks` subcommands to `parser`; returns `parser`."""
    sub = parser.add_subparsers(dest="notebooks_command", required=True)
    student = sub.add_parser("student", help="write the student version (solutions removed)")
    student.add_argument("--out", required=True, help="folder for the student notebooks")
    student.add_argument("--src", default="notebooks", help="the instructor notebooks "
                         "(default: notebooks/)")
    student.set_defaults(func=run_student)
    return parser


def run_student(args: argparse.Namespace) -> int:
    """Run `notebooks student`; 0 on success, 2 for a missing folder or broken markers."""
    try:
        written = make_student_version(args.src, args.out)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} student notebooks to {args.out}")
    return 0
