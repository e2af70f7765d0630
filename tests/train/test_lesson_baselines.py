"""The baselines lesson: a reduced run (five models, equal budgets, every output written, the goals
checked by the command that ran it), the direction/shape split of a confusion matrix, and the goal
check itself. The recorded full run in docs/ is checked by `make lesson-baselines` when it records
it (`lesson baselines --check`), not here."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.cli import main
from slowfast_edu.data.synthetic import write_dataset
from slowfast_edu.train.lesson_baselines import (MODELS, PAPER_KINETICS, check_baselines_lesson,
                                                 split_accuracy)


def test_reduced_lesson_trains_five_models_with_equal_budgets(tmp_path, capsys):
    data = tmp_path / "data"
    write_dataset(data, videos_per_class_train=1, videos_per_class_val=1, num_frames=32,
                  size=48, progress=False)
    code = main(["lesson", "baselines", "--out", str(tmp_path / "out"), "--data", str(data),
                 "--check", "--quiet", "train.epochs=1", "train.batch_size=6",
                 "train.threads=1"])  # tiny tensors, a shared machine: one thread
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(results) == ["c2d", "i3d", "slow_only", "two_stream", "slowfast"]
    assert len({r["steps"] for r in results.values()}) == 1  # the same budget for all five
    for key, r in results.items():  # the numbers of the models as built, at the lesson's 48 px
        cfg = se.get_config(MODELS[key], num_classes=6, crop_size=48)
        with torch.device("meta"):
            model = se.models.build_network(cfg)
        assert r["params"] == se.count_params(model)
        inputs = se.example_inputs(cfg, device="meta")
        assert r["gflops"] == pytest.approx(se.count_flops(model, inputs), abs=1e-4)
        assert 0 <= r["val_top1"] <= r["direction"] <= 1 and r["shape"] >= r["val_top1"]
        assert r["minutes"] > 0
    assert results["c2d"]["gflops"] < results["slowfast"]["gflops"] < results["i3d"]["gflops"]
    assert (tmp_path / "out" / "accuracy_vs_gflops.png").stat().st_size > 0
    table = (tmp_path / "out" / "results.md").read_text()
    assert "| c2d | c2d_tiny |" in table and "GFLOPs" in table
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["threads"] == 1 and run["minutes"]["total"] > 0
    # --check judges the run it just made: one step of training misses the lesson's goals
    assert code == 1 and "MISSED  SlowFast val top-1" in out and "ok      equal budgets" in out
    assert "| slowfast | slowfast_tiny |" in out


def test_direction_and_shape_from_the_confusion_matrix():
    # classes: shape x 2 + direction; C2D-like: the shape always right, the direction a coin
    confusion = torch.zeros(6, 6, dtype=torch.long)
    for shape in range(3):
        left, right = 2 * shape, 2 * shape + 1
        confusion[left, left], confusion[left, right] = 6, 4
        confusion[right, right], confusion[right, left] = 5, 5
    assert split_accuracy(confusion) == {"direction": pytest.approx(0.55), "shape": 1.0}
    confusion[0, 0], confusion[0, 2] = 0, 6  # right direction, wrong shape
    assert split_accuracy(confusion) == {"direction": pytest.approx(0.55),
                                         "shape": pytest.approx(54 / 60)}


GOOD = {"c2d": 0.49, "i3d": 0.99, "slow_only": 0.5, "two_stream": 0.9, "slowfast": 0.99}


def _results(**direction) -> dict:
    return {k: {"val_top1": GOOD[k], "direction": direction.get(k, GOOD[k]), "steps": 360}
            for k in MODELS}


def test_check_baselines_lesson():
    quiet = {"cores": 2, "load_average_before": [0.1, 0.2, 0.3], "minutes": {"total": 7.0}}
    met, missed = check_baselines_lesson(_results(), quiet)
    assert missed == [] and "C2D's direction accuracy 49.0%" in met[2]
    assert "7.0 minutes for the whole lesson" in met[-1]
    slow = {**quiet, "minutes": {"total": 9.0}}
    assert check_baselines_lesson(_results(c2d=0.75), slow)[1] == [
        "C2D's direction accuracy 75.0% (goal: chance, 50 +- 10%)",
        "9.0 minutes for the whole lesson (goal <= 8 on 2 cores)"]
    loaded = {**slow, "load_average_before": [3.0, 2.0, 1.0]}
    assert "time not judged" in check_baselines_lesson(_results(), loaded)[0][-1]


def test_the_papers_numbers_have_their_sources():
    table_2 = {name: (gflops, top1) for name, gflops, top1, source in PAPER_KINETICS
               if source == "the paper, Table 2"}
    assert table_2["SlowFast 4x16 R50"] == (36.1, 75.6) and table_2["SlowFast 16x8 R101"] == (
        213.0, 78.9)
    zoo = {name: top1 for name, _, top1, _ in PAPER_KINETICS}
    assert zoo["C2D 8x8 R50"] == se.models.PRESETS["c2d_r50"].weights.accuracy.top1
    assert zoo["I3D 8x8 R50"] == se.models.PRESETS["i3d_r50"].weights.accuracy.top1
    assert zoo["Slow-only 4x16 R50"] == se.models.PRESETS["slow_4x16_r50"].paper.top1


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("target, command", [("lesson-baselines", "lesson baselines"),
                                             ("lesson-multilabel", "lesson multilabel")])
def test_make_checks_the_run_before_it_records_it(target, command):
    from ..conftest import REPO

    lines = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True,
                           text=True).stdout.splitlines()  # -n: prints, runs nothing
    run_at = next(i for i, line in enumerate(lines) if command in line)
    assert "--check" in lines[run_at]
    assert run_at < next(i for i, line in enumerate(lines) if "docs/lesson_" in line)
