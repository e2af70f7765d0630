"""The notebooks' tools: the scratch folder, the result figures, the full-mode timing table, and the
nbval temp-folder check of notebooks/conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from slowfast_edu.notebooks import scratch_folder
from slowfast_edu.notebooks.figures import (ablation_figure, add_colorbar, confusion_figure,
                                            training_curves)
from slowfast_edu.notebooks.timing import run_full_mode, table
from slowfast_edu.train.ablation import VARIANTS

from .conftest import NOTEBOOKS


def _notebook(path, *sources):
    nb = new_notebook(cells=[new_markdown_cell("# 00 · T"), *map(new_code_cell, sources)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def test_scratch_folder_catches_every_temp_file_and_goes(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    scratch = scratch_folder("nb_")
    assert scratch.path.parent == tmp_path and tempfile.gettempdir() == str(scratch.path)
    assert os.environ["TMPDIR"] == str(scratch.path)
    inner = tempfile.mkdtemp()  # anyone's temp files, e.g. a library's, land inside
    (scratch / "file.txt").write_text("x")
    assert inner.startswith(str(scratch.path))
    scratch.cleanup()
    assert scratch.removed and not scratch.path.exists() and list(tmp_path.iterdir()) == []
    assert tempfile.gettempdir() == str(tmp_path) and os.environ["TMPDIR"] == str(tmp_path)
    scratch.cleanup()  # twice is fine


def test_result_figures_label_their_axes_and_share_them():
    rows = [{"split": "train", "step": s, "loss": 1 / s, "top1": 0.5} for s in (10, 20)]
    runs = {"a": rows + [{"split": "val", "step": 20, "top1": 0.9}], "b": rows}
    curves = training_curves(runs)
    assert [ax.get_xlabel() for ax in curves.axes] == ["optimizer step"] * 2
    assert curves.axes[1].get_ylim() == (0, 103)
    names = [f"c{i}_moving" for i in range(3)]
    confusion = confusion_figure({"a": np.eye(3) * 4, "b": np.ones((3, 3))}, names)
    matrices = [ax for ax in confusion.axes if ax.get_xlabel() == "predicted class"]
    assert len(matrices) == 2 and matrices[0].get_ylabel() == "true class"
    assert len(confusion.axes) == 3 and confusion.axes[2].get_ylabel() == "validation clips"
    results = [{"name": v.name, "family": v.family, "val_top1": 0.5 + 0.02 * i,
                "gflops": 0.1 + i / 100, "paper_top1": v.paper_top1,
                "paper_gflops": v.paper_gflops} for i, v in enumerate(VARIANTS)]
    fig = ablation_figure(results)
    ours = [ax for ax in fig.axes if ax.get_ylabel() == "val top-1 (%)"]
    paper = [ax for ax in fig.axes if ax.get_ylabel() == "Kinetics-400 top-1 (%)"]
    assert len(ours) == 4 and len(paper) == 3  # no empty paper panel for alpha
    assert len({ax.get_ylim() for ax in ours}) == 1 and len({ax.get_ylim() for ax in paper}) == 1
    span = [np.diff(axes[0].get_ylim())[0] for axes in (ours, paper)]
    assert span[0] == span[1]  # the same number of points on both rows
    assert not [t for ax in fig.axes for t in ax.texts]  # a legend per panel, no stray labels
    assert len(add_colorbar(curves).axes) == 3


def test_full_mode_times_each_notebook_and_flags_leftovers(tmp_path, monkeypatch):
    src = tmp_path / "nbs"
    src.mkdir()
    _notebook(src / "00_clean.ipynb", "import os\nassert os.environ.get('SLOWFAST_EDU_SMOKE') "
                                      "is None  # full mode")
    _notebook(src / "01_broken.ipynb", "import tempfile\nkept = tempfile.mkdtemp(prefix='left_')",
              "1 / 0")
    out = tmp_path / "notebooks.md"
    monkeypatch.setenv("SLOWFAST_EDU_SMOKE", "1")
    results = run_full_mode(src, out, timeout=60)
    assert os.environ["SLOWFAST_EDU_SMOKE"] == "1"  # restored
    assert [r["ok"] for r in results] == [True, False]
    assert results[1]["left_in_tmp"][0].startswith("left_")  # seen, and removed
    assert results[1]["error"] == "ZeroDivisionError: division by zero"
    text = out.read_text()
    assert "| 00_clean | " in text and "within the goal" in text
    assert "failed: ZeroDivisionError" in text and "load before" in text and "cores" in text
    leaky = dict(results[1], notebook="02_leaky", ok=True, error=None)
    kept = {"01_broken": "| 01_broken | kept row |"}  # a rerun of some notebooks keeps the others
    rows = table([leaky], kept)
    assert "| 01_broken | kept row |" in rows and "left in its temp folder: left_" in rows


def test_nbval_run_fails_a_notebook_that_leaves_temp_files(tmp_path):
    shutil.copy(NOTEBOOKS / "conftest.py", tmp_path / "conftest.py")
    _notebook(tmp_path / "leaky.ipynb", "import tempfile\nd = tempfile.mkdtemp(prefix='leak_')")
    _notebook(tmp_path / "tidy.ipynb", "import tempfile, shutil\nd = tempfile.mkdtemp()\n"
                                       "shutil.rmtree(d)")
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                             "-q", "-p", "no:cacheprovider", "leaky.ipynb", "tidy.ipynb"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "ERROR leaky.ipynb::Cell 0 - AssertionError: leaky.ipynb left 1 entries" in \
        result.stdout, result.stdout[-2000:]
    assert "2 passed, 1 error" in result.stdout
    assert list((tmp_path / "tmp").iterdir()) == []  # the kernels' folders are removed too
