"""The pathway lesson: a reduced run (three models, equal budgets, every output written, the
goals checked by the command that ran it) and the goal check itself. The recorded full run in
docs/ is checked by `make lesson` when it records it (`lesson pathways --check`), not here."""

from __future__ import annotations

import json

import pytest

from slowfast_edu.cli import main
from slowfast_edu.data.synthetic import write_dataset
from slowfast_edu.train import lesson
from slowfast_edu.train.lesson import check_lesson, run_pathways_lesson


def test_reduced_lesson_trains_three_models_with_equal_budgets(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    write_dataset(data, videos_per_class_train=2, videos_per_class_val=1, num_frames=32,
                  size=48, progress=False)
    made = []
    real = lesson.datasets_from_config
    monkeypatch.setattr(lesson, "datasets_from_config",
                        lambda *args, **kwargs: made.append(1) or real(*args, **kwargs))
    code = main(["lesson", "pathways", "--out", str(tmp_path / "out"), "--data", str(data),
                 "--check", "--quiet", "train.epochs=1", "train.eval_every=1",
                 "train.threads=1"])  # tiny tensors, a shared machine: one thread
    out = capsys.readouterr().out
    assert made == [1]  # the clips are decoded once and shared by the three trainings
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(results) == ["slowfast", "slow_only", "fast_only"]
    assert [r["model"] for r in results.values()] == ["slowfast_tiny", "slow_tiny", "fast_tiny"]
    assert len({r["steps"] for r in results.values()}) == 1  # the same budget for all three
    for r in results.values():
        assert 0.0 <= r["val_top1"] <= 1.0 and r["minutes"] > 0 and r["cpu_minutes"] > 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["threads"] == 1 and run["num_workers"] == 0 and len(run["load_average_before"]) == 3
    assert run["minutes"]["total"] >= run["minutes"]["train"] > 0
    assert (tmp_path / "out" / "results.png").stat().st_size > 0
    assert "| slowfast | slowfast_tiny |" in (tmp_path / "out" / "results.md").read_text()
    for key in results:  # each model's own run folder
        assert (tmp_path / "out" / key / "metrics.csv").is_file()
    # --check judges the run it just made: two steps of training miss the lesson's goals
    assert code == 1 and "MISSED  SlowFast val top-1" in out and "ok      equal budgets" in out
    assert check_lesson(results, run)[1] == [line.split("MISSED  ")[1]
                                             for line in out.splitlines() if "MISSED" in line]


FULL = {"slowfast": {"val_top1": 1.0, "steps": 480, "minutes": 1.5, "cpu_minutes": 3.0},
        "slow_only": {"val_top1": 0.475, "steps": 480, "minutes": 1.2, "cpu_minutes": 2.4},
        "fast_only": {"val_top1": 0.9, "steps": 480, "minutes": 1.4, "cpu_minutes": 2.8}}
QUIET = {"cores": 2, "load_average_before": [0.1, 0.2, 0.3]}


def results(**changes) -> dict:
    return {k: {**r, **changes.get(k, {})} for k, r in FULL.items()}


def test_check_lesson_passes_a_run_that_meets_the_goals():
    met, missed = check_lesson(results(), QUIET)
    assert missed == [] and "SlowFast val top-1 100.0% (goal >= 95%)" in met
    assert "4.1 minutes for the three (goal <= 5 on 2 cores)" in met


@pytest.mark.parametrize("changes, words", [
    ({"slowfast": {"val_top1": 0.9}}, "SlowFast val top-1 90.0%"),
    ({"slow_only": {"val_top1": 0.9}}, "Slow-only 90.0%, 10.0 points below SlowFast"),
    ({"fast_only": {"steps": 240}}, "equal budgets: slowfast 480, slow_only 480, fast_only 240"),
    ({"slowfast": {"minutes": 4.0}}, "6.6 minutes for the three"),
    ({"slowfast": {"cpu_minutes": 6.0}}, "11.2 CPU minutes of training"),
])
def test_check_lesson_names_the_goal_a_run_missed(changes, words):
    missed = check_lesson(results(**changes), QUIET)[1]
    assert len(missed) == 1 and missed[0].startswith(words)


def test_the_time_is_judged_on_a_quiet_two_core_machine_only():
    slow = results(slowfast={"minutes": 4.0})
    for run in ({"cores": 2, "load_average_before": [1.7, 1, 1]},
                {"cores": 8, "load_average_before": [0.1, 0, 0]}):
        met, missed = check_lesson(slow, run)
        assert missed == [] and any(line.startswith("time not judged: 6.6 minutes")
                                    for line in met)


def test_lesson_can_train_a_chosen_model_only_and_makes_its_set(tmp_path):
    # no data folder given: the config's synthetic set, here made small, is generated in out/data
    settings = ["train.epochs=1", "train.threads=1", "data.crop_size=32",
                "data.synthetic={train_per_class: 1, val_per_class: 1, frames: 16, size: 32}"]
    out = tmp_path / "out"
    res = run_pathways_lesson(out, None, settings, progress=False,
                              models={"fast_only": "fast_tiny"})
    assert list(res) == ["fast_only"] and res["fast_only"]["steps"] == 1
    assert not (out / "slowfast").exists()
    assert len((out / "data" / "train.csv").read_text().splitlines()) == 6  # 6 classes x 1


def test_run_pathways_lesson_keeps_its_keyword_arguments():
    """Notebook 05 calls it with these keywords."""
    import inspect

    params = inspect.signature(run_pathways_lesson).parameters
    assert list(params)[:5] == ["out", "data_dir", "overrides", "progress", "config_path"]


def test_every_lesson_is_a_command_with_the_same_options():
    from slowfast_edu.cli import build_parser
    from slowfast_edu.train import cli

    parser = build_parser()
    for name, func in (("pathways", cli.cmd_lesson_pathways),
                       ("detection", cli.cmd_lesson_detection),
                       ("baselines", cli.cmd_lesson_baselines),
                       ("multilabel", cli.cmd_lesson_multilabel)):
        args = parser.parse_args(["lesson", name, "--out", "o", "--check", "train.epochs=1"])
        assert (args.func, args.out, args.data, args.check, args.overrides) == (
            func, "o", None, True, ["train.epochs=1"])
