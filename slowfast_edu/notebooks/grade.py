"""Grading: run each submitted notebook in its own process and score each exercise's check.

    slowfast-edu notebooks grade submissions/ --out grades.csv

`submissions/` holds a folder per student with their notebooks (`submissions/alice/01_video_as_
data.ipynb`), or one notebook per student (`submissions/alice.ipynb`). Which course notebook a file
is comes from its metadata (the student version says), else from its name (`01_...`).

Each submission runs in a fresh process (`worker.py`: IPython's shell, smoke mode unless `full`,
no network, a private temp and working folder), cell by cell up to its last exercise's check, with
a time limit per cell and one per notebook. The check cells run as the instructor wrote them, not
as the student may have edited them. An exercise scores its points when its check cell runs
without an error; a cell that fails, hangs or crashes the process costs only the exercises it
touches, and nothing stops the run. The CSV has one row per student and exercise; the written
answers to the conceptual questions go beside it, for grading by hand.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat

from .course import META, Exercise, exercises, list_notebooks, questions
from .student import YOUR_ANSWER

WORKER = Path(__file__).with_name("worker.py")
NOT_DONE = ("ExerciseNotDone", "NotImplementedError")
COLUMNS = ("student", "notebook", "exercise", "title", "points", "score", "status", "seconds")


@dataclass
class Row:
    """One student's result on one exercise."""

    student: str
    notebook: str
    exercise: int | str
    title: str
    points: float
    score: float
    status: str
    seconds: float = 0.0


@dataclass
class Answer:
    """One student's written answer to one conceptual question."""

    student: str
    notebook: str
    question: int
    text: str
    points: float


def find_submissions(folder: str | Path) -> list[tuple[str, Path | None]]:
    """(student, notebook file) for every submission; (student, None) for an empty folder."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder of submissions")
    found: list[tuple[str, Path | None]] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*.ipynb")
                           if ".ipynb_checkpoints" not in p.parts)
            found += [(entry.name, p) for p in files] or [(entry.name, None)]
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry))
    return found


def _identify(nb: Any, path: Path, course: dict) -> str | None:
    stem = nb.metadata.get(META, {}).get("notebook") if nb is not None else None
    if stem in course:
        return stem
    for name in course:  # by file name: the stem, or its number ("01_...")
        if name in path.stem or path.stem.startswith(name[:3]):
            return name
    return None


def _find_cell(nb: Any, key: str, number: int, fallback: int, template_source: str | None = None
               ) -> int | None:
    """The submission's cell tagged {key: number}, else one with the template's source, else the
    template's index when the cell count matches; None if there is none."""
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get(META, {}).get(key) == number:
            return i
    if template_source is not None:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.source == template_source:
                return i
    return fallback if 0 <= fallback < len(nb.cells) else None


def _program(nb: Any, template: Any, found: list[Exercise]) -> tuple[list[dict], dict]:
    """The cells to run and, per exercise, (solution index, check index) in the submission."""
    where: dict[int, tuple[int | None, int | None]] = {}
    same_layout = len(nb.cells) == len(template.cells)
    for e in found:
        solution = _find_cell(nb, "exercise", e.number, e.cell if same_layout else -1)
        check = _find_cell(nb, "check", e.number, e.check if same_layout else -1,
                           template.cells[e.check].source if e.check >= 0 else None)
        where[e.number] = (solution, check)
    checks = {check: template.cells[e.check].source for e in found
              for check in [where[e.number][1]] if check is not None}
    last = max(checks, default=-1)
    cells = [{"index": i, "source": checks.get(i, cell.source)}
             for i, cell in enumerate(nb.cells[: last + 1]) if cell.cell_type == "code"]
    return cells, where


def _run(cells: list[dict], timeout: float, cell_timeout: float, smoke: bool,
         scratch: Path) -> tuple[dict[int, dict], str | None]:
    """Run the cells in a worker process; ({cell index: result}, why it stopped early or None)."""
    work, tmp = scratch / "work", scratch / "tmp"
    work.mkdir(parents=True)
    tmp.mkdir()
    job, results = scratch / "job.json", scratch / "results.jsonl"
    job.write_text(json.dumps({"cells": cells, "cell_timeout": cell_timeout, "cwd": str(work)}))
    env = dict(os.environ, TMPDIR=str(tmp), MPLBACKEND="Agg", GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1", http_proxy="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
               HTTPS_PROXY="http://127.0.0.1:9", no_proxy="localhost,127.0.0.1",
               NO_PROXY="localhost,127.0.0.1")
    env.pop("SLOWFAST_EDU_SMOKE", None)
    if smoke:
        env["SLOWFAST_EDU_SMOKE"] = "1"
    stopped = None
    with open(scratch / "output.txt", "wb") as log:
        process = subprocess.Popen([sys.executable, str(WORKER), str(job), str(results)],
                                   cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
            if code != 0:
                stopped = f"the notebook's process ended with exit code {code}"
        except subprocess.TimeoutExpired:
            stopped = f"timeout: the notebook ran over {timeout:g} s"
        finally:
            if process.poll() is None or stopped:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # the worker and all it started
                except ProcessLookupError:
                    pass
                process.wait()
    done = {}
    if results.is_file():
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # the last line, cut by the kill
                continue
            done[entry["index"]] = entry
    return done, stopped


def _status(result: dict | None, role: str) -> str:
    if result["status"] == "timeout":
        return f"timeout: the {role} cell ran over its time limit"
    if result.get("type") in NOT_DONE:
        return "not done"
    what = "wrong" if result.get("type") in ("AssertionError", "LibraryUsed") else "error"
    first = result.get("error", "").replace("\n", " | ")
    return f"{what}: {first}" if role == "check" else f"error in the exercise cell: {first}"


def _score(e: Exercise, where: tuple[int | None, int | None], done: dict,
           stopped: str | None) -> tuple[float, str, float]:
    solution, check = where
    if check is None:
        return 0.0, "missing: the check cell is not in the notebook", 0.0
    seconds = sum(done[i]["seconds"] for i in (solution, check) if i in done)
    if solution in done and done[solution]["status"] != "ok" and not (
            done[solution].get("type") in NOT_DONE):
        return 0.0, _status(done[solution], "exercise"), seconds
    if check not in done:
        return 0.0, stopped or "not run", seconds
    if done[check]["status"] == "ok":
        return float(e.points), "passed", seconds
    return 0.0, _status(done[check], "check"), seconds


def grade_notebook(student: str, path: Path, course: dict, timeout: float, cell_timeout: float,
                   smoke: bool) -> tuple[list[Row], list[Answer], str | None]:
    """Grade one submitted notebook; (rows, written answers, the course notebook it is)."""
    try:
        if path.stat().st_size == 0:
            raise ValueError("the file is empty")
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # noqa: BLE001 - any unreadable file scores zero, never stops the run
        nb, unreadable = None, f"unreadable notebook {path.name}: {type(e).__name__}: {e}"
    else:
        unreadable = None
    stem = _identify(nb, path, course)
    if stem is None:
        why = unreadable or f"{path.name} is none of the course's notebooks"
        return [Row(student, path.stem, "-", "", 0, 0.0, why)], [], None
    template, found, asked = course[stem]
    if unreadable:
        return [Row(student, stem, e.number, e.title, e.points, 0.0, unreadable)
                for e in found], [], stem
    cells, where = _program(nb, template, found)
    scratch = Path(tempfile.mkdtemp(prefix="slowfast_edu_grade_"))
    try:
        start = time.perf_counter()
        done, stopped = _run(cells, timeout, cell_timeout, smoke, scratch) if cells else ({}, None)
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = []
    for e in found:
        score, status, seconds = _score(e, where[e.number], done, stopped)
        rows.append(Row(student, stem, e.number, e.title, e.points, score, status,
                        round(seconds if seconds else total if stopped else 0.0, 2)))
    answers = []
    for q in asked:
        index = _find_cell(nb, "question", q.number, q.answer if len(nb.cells) == len(
            template.cells) else -1)
        text = nb.cells[index].source.strip() if index is not None else ""
        answers.append(Answer(student, stem, q.number, "" if text == YOUR_ANSWER else text,
                              q.points))
    return rows, answers, stem


def load_course(source: str | Path) -> dict:
    """{notebook stem: (instructor notebook, exercises, questions)} of the course in `source`."""
    course = {}
    for path in list_notebooks(source):
        nb = nbformat.read(path, as_version=4)
        course[path.stem] = (nb, exercises(nb, path.name), questions(nb, path.name))
    if not course:
        raise FileNotFoundError(f"no .ipynb notebooks in {source}")
    return course


def grade(submissions: str | Path, source: str | Path = "notebooks", timeout: float = 600.0,
          cell_timeout: float = 120.0, smoke: bool = True, jobs: int = 1,
          progress: bool = False) -> tuple[list[Row], list[Answer]]:
    """Grade every submission; (one row per student and exercise, the written answers)."""
    course = load_course(source)
    found = find_submissions(submissions)

    def one(item: tuple[str, Path | None]):
        student, path = item
        if path is None:
            return [], [], None
        result = grade_notebook(student, path, course, timeout, cell_timeout, smoke)
        if progress:
            rows = result[0]
            print(f"{student}, {path.name}: {sum(r.score for r in rows):g} / "
                  f"{sum(r.points for r in rows):g}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, found))
    rows = [row for r, _, _ in results for row in r]
    answers = [a for _, a, _ in results for a in a]
    submitted = {stem for _, _, stem in results if stem}
    for student in sorted({s for s, _ in found}):
        have = {stem for (s, _), (_, _, stem) in zip(found, results) if s == student}
        for stem in sorted(submitted - have):
            rows += [Row(student, stem, e.number, e.title, e.points, 0.0, "not submitted")
                     for e in course[stem][1]]
    rows.sort(key=lambda r: (r.student, r.notebook, str(r.exercise).zfill(3)))
    return rows, answers


def write_csv(rows: list[Row], path: str | Path) -> Path:
    """The grades as CSV, one row per student and exercise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(asdict(row) for row in rows)
    return path


def write_answers(answers: list[Answer], csv_path: str | Path) -> Path | None:
    """The written answers, by notebook and question, beside the CSV (`NAME_answers.md`)."""
    if not answers:
        return None
    path = Path(csv_path).with_name(Path(csv_path).stem + "_answers.md")
    lines = ["# Written answers, to grade by hand", ""]
    for key in sorted({(a.notebook, a.question) for a in answers}):
        chosen = [a for a in answers if (a.notebook, a.question) == key]
        lines += [f"## {key[0]}, question {key[1]} ({chosen[0].points:g} points)", ""]
        for a in sorted(chosen, key=lambda a: a.student):
            lines += [f"**{a.student}**: {a.text or '*(no answer)*'}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def summary(rows: list[Row]) -> str:
    """Each student's total, one line each."""
    lines = []
    for student in sorted({r.student for r in rows}):
        mine = [r for r in rows if r.student == student]
        lines.append(f"{student:24s} {sum(r.score for r in mine):g} / "
                     f"{sum(r.points for r in mine):g} points")
    return "\n".join(lines)
