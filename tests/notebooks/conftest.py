"""The course notebooks as the tests see them: paths, the instructor versions, exercise cells."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from slowfast_edu.notebooks import is_exercise_cell, list_notebooks

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
COURSE = [  # the order; every notebook of the course must exist
    "00_setup_and_tour", "01_video_as_data", "02_building_blocks",
    "03_two_pathways_and_lateral_connections", "04_the_full_network", "05_training_on_cpu",
    "06_training_on_kinetics_gpu", "07_pathway_activations", "08_gradcam_over_time",
    "09_ablations", "10_the_demo",
]
PATHS = list_notebooks(NOTEBOOKS) if NOTEBOOKS.is_dir() else []
CHECK_CALL = r"\bcheck_(shape|close|grad|parameters)\("


def read(path: Path) -> nbformat.NotebookNode:
    """The committed notebook at `path`."""
    return nbformat.read(path, as_version=4)


def exercises(nb: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(exercise cell index, index of the code cell after it) for every exercise of `nb`."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    pairs = []
    for i in code:
        if is_exercise_cell(nb.cells[i]):
            following = [j for j in code if j > i]
            pairs.append((i, following[0] if following else -1))
    return pairs


@pytest.fixture(params=PATHS, ids=[p.stem for p in PATHS])
def notebook_path(request) -> Path:
    """Each notebook in notebooks/."""
    return request.param
