"""How every notebook is committed: no outputs, the course's header, Colab set-up, smoke switch."""

from __future__ import annotations

import re

import nbformat
import pytest

from slowfast_edu.notebooks import BEGIN, END, student_notebook

from .conftest import CHECK_CALL, COURSE, NOTEBOOKS, PATHS, exercises, read

COLAB_CELL = '''# Colab: fetch the course (notebooks, configs, sample clips) and install it; elsewhere this cell does nothing
import sys
if "google.colab" in sys.modules:
    !test -d /content/slowfast-edu || git clone -q --depth 1 https://github.com/slowfast-edu/slowfast-edu /content/slowfast-edu
    !pip install -q -e /content/slowfast-edu
    sys.path.insert(0, "/content/slowfast-edu")  # the editable install, without restarting the kernel
    %cd /content/slowfast-edu/notebooks'''
SMOKE_LINE = 'SMOKE = os.environ.get("SLOWFAST_EDU_SMOKE") == "1"'


def test_the_course_has_every_notebook_in_order():
    assert [p.stem for p in PATHS] == COURSE, f"notebooks/ holds {[p.name for p in PATHS]}"


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


def test_header_badge_and_learning_goals(notebook_path):
    nb = read(notebook_path)
    first = nb.cells[0]
    number = notebook_path.stem[:2]
    assert re.fullmatch(r"\d\d_[a-z0-9_]+", notebook_path.stem), notebook_path.name
    assert first.cell_type == "markdown" and first.source.startswith(f"# {number} · ")
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             "(https://colab.research.google.com/github/slowfast-edu/slowfast-edu/blob/main/"
             f"notebooks/{notebook_path.name})")
    assert badge in first.source, f"{notebook_path.name}: no Colab badge pointing to itself"
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


def test_every_exercise_has_a_title_a_check_and_a_student_version(notebook_path):
    nb = read(notebook_path)
    student = student_notebook(nb, notebook_path.name)
    titles = [m.group(1) for c in nb.cells if c.cell_type == "markdown"
              for m in re.finditer(r"^#+\s*Exercise (\d+):", c.source, re.M)]
    pairs = exercises(nb)
    assert titles == [str(n) for n in range(1, len(titles) + 1)], \
        f"{notebook_path.name}: exercises numbered {titles}"
    assert len(pairs) >= len(titles), f"{notebook_path.name}: an exercise without a solution"
    for cell, check in pairs:
        assert check != -1 and re.search(CHECK_CALL, nb.cells[check].source), \
            f"{notebook_path.name}, cell {cell}: the exercise is not followed by a check cell"
        source = student.cells[cell].source
        assert BEGIN not in source and END not in source
        assert re.search(r'raise NotImplementedError\(["\']Exercise \d+: ', source), source
        assert len(source) < len(nb.cells[cell].source)
    changed = [i for i, (a, b) in enumerate(zip(nb.cells, student.cells)) if a.source != b.source]
    assert changed == [cell for cell, _ in pairs], "only the exercise cells differ"


@pytest.mark.parametrize("name", ["00_setup_and_tour", "01_video_as_data", "02_building_blocks",
                                  "03_two_pathways_and_lateral_connections",
                                  "04_the_full_network"])
def test_the_notebooks_of_part_one_exist_with_their_exercises(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.is_file()
    expected = {"01": 1, "02": 2, "03": 3}.get(name[:2], 0)  # Exercise cells per notebook
    assert len(exercises(read(path))) == expected
