"""How every instructor notebook is committed: no outputs, the course's header with its Colab badge
and the glossary, the Colab set-up, the smoke switch, exercises with checks and points, questions
with answers. Everything is discovered from the notebooks themselves."""

from __future__ import annotations

import re

import nbformat

from slowfast_edu.notebooks import BEGIN, END, exercises, numbering_errors, questions

from .conftest import CHECK_CALL, NOTEBOOKS, PATHS, read

COLAB_CELL = '''# Colab: fetch the course (notebooks, configs, sample clips) and install it; elsewhere this cell does nothing
import sys
if "google.colab" in sys.modules:
    !test -d /content/slowfast-edu || git clone -q --depth 1 https://github.com/slowfast-edu/slowfast-edu /content/slowfast-edu
    !pip install -q -e /content/slowfast-edu
    sys.path.insert(0, "/content/slowfast-edu")  # the editable install, without restarting the kernel
    %cd /content/slowfast-edu/notebooks'''
SMOKE_LINE = 'SMOKE = os.environ.get("SLOWFAST_EDU_SMOKE") == "1"'
BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/slowfast-edu/slowfast-edu/blob/main/"
         "notebooks/{folder}{name})")


def test_the_course_is_numbered_from_00_without_gaps():
    numbers = [p.stem[:2] for p in PATHS]
    assert PATHS and numbers == [f"{i:02d}" for i in range(len(PATHS))], \
        f"notebooks/ holds {[p.name for p in PATHS]}"
    for path in PATHS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", path.stem), path.name


def test_committed_without_outputs_counts_or_widget_state(notebook_path):
    nb = read(notebook_path)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.outputs or c.execution_count is not None)]
    assert not dirty, (f"{notebook_path.name}: cells {dirty} were committed with outputs or "
                       f"execution counts; clear them (Jupyter: Edit > Clear All Outputs)")
    assert "widgets" not in nb.metadata, f"{notebook_path.name}: saved widget state in metadata"
    assert not [i for i, c in enumerate(nb.cells) if "execution" in c.metadata], \
        f"{notebook_path.name}: cells keep execution timing metadata"
    assert nb.metadata.kernelspec.name == "python3"
    assert "slowfast_edu" not in nb.metadata, "instructor notebooks carry no student metadata"


def test_header_badge_glossary_goals_and_summary(notebook_path):
    nb = read(notebook_path)
    first = nb.cells[0]
    number = notebook_path.stem[:2]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {number} · ")
    assert BADGE.format(folder="", name=notebook_path.name) in first.source, \
        f"{notebook_path.name}: no Colab badge pointing to itself"
    assert "](GLOSSARY.md)" in first.source, f"{notebook_path.name}: no link to the glossary"
    assert (NOTEBOOKS / "GLOSSARY.md").is_file()
    assert "**Learning goals**" in first.source
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and re.search(r"^#+ Summary", last.source, re.M), \
        f"{notebook_path.name}: the last cell must be the markdown Summary"


def test_colab_install_cell_and_smoke_switch(notebook_path):
    nb = read(notebook_path)
    assert nb.cells[1].cell_type == "code" and nb.cells[1].source == COLAB_CELL
    setup = nb.cells[2]
    assert setup.cell_type == "code"
    assert SMOKE_LINE in setup.source and "torch.manual_seed(0)" in setup.source


def test_every_exercise_has_a_title_a_check_and_points(notebook_path):
    nb = read(notebook_path)
    assert not numbering_errors(nb, notebook_path.name)
    for e in exercises(nb, notebook_path.name):
        assert e.title.startswith(f"Exercise {e.number}:")
        assert e.check != -1 and re.search(CHECK_CALL, nb.cells[e.check].source), \
            f"{notebook_path.name}, cell {e.cell}: the exercise is not followed by a check cell"
        assert BEGIN not in nb.cells[e.check].source and END not in nb.cells[e.check].source
        assert e.points > 0


def test_every_notebook_asks_conceptual_questions_with_answers(notebook_path):
    nb = read(notebook_path)
    asked = questions(nb, notebook_path.name)
    assert asked, f"{notebook_path.name}: no conceptual question (**Question 1.** + **Answer.**)"
    for q in asked:
        answer = nb.cells[q.answer].source
        assert len(answer) > 80, f"{notebook_path.name}, cell {q.answer}: a one-line answer?"
    summary = len(nb.cells) - 1
    assert all(q.answer < summary for q in asked)
