"""`slowfast-edu notebooks ...`: the student version, renumbering, grading, full-mode timings.

Parsing only: nbformat, IPython and nbclient are imported when a subcommand runs, so the other
`slowfast-edu` commands work without them (`pip install "slowfast-edu[notebooks]"` adds them).
"""

from __future__ import annotations

import argparse
import sys

NEEDS = "the notebook tools need nbformat and IPython: pip install 'slowfast-edu[notebooks]'"


def add_notebooks_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `notebooks` subcommands to `parser`; returns `parser`."""
    sub = parser.add_subparsers(dest="notebooks_command", required=True)
    student = sub.add_parser("student", help="write the student version (no solutions, no "
                             "answers) into notebooks/student/")
    student.add_argument("--src", default="notebooks", help="the instructor notebooks "
                         "(default: notebooks/)")
    student.add_argument("--out", default=None, help="folder for the student notebooks "
                         "(default: SRC/student, where the course's Colab badges point)")
    student.set_defaults(func=run_student)

    renumber = sub.add_parser("renumber", help="number the exercises and questions of the "
                              "instructor notebooks 1, 2, 3, ... in place")
    renumber.add_argument("--src", default="notebooks")
    renumber.set_defaults(func=run_renumber)

    grade = sub.add_parser("grade", help="run each submitted notebook and score its exercises")
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="a folder per student "
                       "holding their notebooks, or one .ipynb per student")
    grade.add_argument("--out", default="grades.csv", help="the CSV to write (default: "
                       "grades.csv); the written answers go beside it (grades_answers.md)")
    grade.add_argument("--src", default="notebooks", help="the instructor notebooks")
    grade.add_argument("--timeout", type=float, default=600.0,
                       help="seconds per submitted notebook (default 600)")
    grade.add_argument("--cell-timeout", type=float, default=120.0,
                       help="seconds per cell (default 120)")
    grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    grade.add_argument("--full", action="store_true", help="run in full mode (default: smoke "
                       "mode, SLOWFAST_EDU_SMOKE=1, enough for the exercises)")
    grade.set_defaults(func=run_grade)

    full = sub.add_parser("full", help="run the notebooks in full mode, time each, and write "
                          "the table (docs/notebooks.md)")
    full.add_argument("names", nargs="*", metavar="NOTEBOOK", help="only these (e.g. 05 09)")
    full.add_argument("--src", default="notebooks")
    full.add_argument("--out", default="docs/notebooks.md")
    full.add_argument("--timeout", type=float, default=1800.0, help="seconds per notebook")
    full.set_defaults(func=run_full)
    return parser


def run_student(args: argparse.Namespace) -> int:
    """Run `notebooks student`; 0 on success, 2 for a missing folder or broken markers."""
    try:
        from .student import make_student_version

        written = make_student_version(args.src, args.out)
    except ImportError:
        print(f"error: {NEEDS}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} student notebooks to {written[0].parent}")
    return 0


def run_renumber(args: argparse.Namespace) -> int:
    """Run `notebooks renumber`: print what changed."""
    try:
        import nbformat

        from .course import list_notebooks, renumber
    except ImportError:
        print(f"error: {NEEDS}", file=sys.stderr)
        return 2
    try:
        paths = list_notebooks(args.src)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        changes = renumber(nb)
        if changes:
            nbformat.write(nb, path)
            print(f"{path.name}: {', '.join(changes)}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    """Run `notebooks grade`: write the CSV and print each student's total."""
    try:
        from .grade import grade, summary, write_answers, write_csv
    except ImportError:
        print(f"error: {NEEDS}", file=sys.stderr)
        return 2
    try:
        rows, answers = grade(args.submissions, source=args.src, timeout=args.timeout,
                              cell_timeout=args.cell_timeout, smoke=not args.full,
                              jobs=args.jobs, progress=True)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    path = write_csv(rows, args.out)
    notes = write_answers(answers, args.out)
    print(summary(rows))
    print(f"wrote {path}" + (f" and {notes}" if notes else ""))
    return 0


def run_full(args: argparse.Namespace) -> int:
    """Run `notebooks full`: each notebook in full mode, timed; write the table."""
    try:
        from .timing import run_full_mode
    except ImportError as e:
        print(f"error: {e} (the timing needs nbclient: pip install 'slowfast-edu[notebooks]')",
              file=sys.stderr)
        return 2
    results = run_full_mode(args.src, args.out, args.names, args.timeout)
    return 0 if all(r["ok"] for r in results) else 1
