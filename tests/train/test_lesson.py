"""The pathway lesson, reduced: three models, equal budgets, every output written."""

from __future__ import annotations

import json

from slowfast_edu.data.synthetic import write_dataset
from slowfast_edu.train.lesson import run_pathways_lesson


def test_reduced_lesson_trains_three_models_with_equal_budgets(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, videos_per_class_train=2, videos_per_class_val=1, num_frames=32,
                  size=48, progress=False)
    results = run_pathways_lesson(tmp_path / "out", data, ["train.epochs=1", "train.eval_every=1"],
                                  progress=False)
    assert list(results) == ["slowfast", "slow_only", "fast_only"]
    assert len({r["steps"] for r in results.values()}) == 1  # the same budget for all three
    for r in results.values():
        assert 0.0 <= r["val_top1"] <= 1.0 and r["minutes"] > 0
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved.keys() == results.keys()
    assert (tmp_path / "out" / "results.png").stat().st_size > 0
    assert "| slowfast | slowfast_tiny |" in (tmp_path / "out" / "results.md").read_text()
