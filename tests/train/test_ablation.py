"""The ablation runner: Table 5's variants on slowfast_tiny, costs, equal budgets, the plot."""

from __future__ import annotations

import json
import os

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.data.synthetic import write_dataset
from slowfast_edu.train import ablation
from slowfast_edu.train.ablation import (FAMILIES, VARIANTS, paper_variant_cost, plot_ablation,
                                         run_ablation, variant_cost, variant_config)
from slowfast_edu.train.engine import datasets_from_config

SMALL = ["train.epochs=1", "train.eval_every=1", "train.batch_size=6", "data.num_workers=0",
         "data.crop_size=32", "data.short_side=[32,32]", "data.test_short_side=32",
         "data.test_crop_size=32"]
BY_NAME = {v.name: v for v in VARIANTS}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_every_variant_builds_and_names_a_table_part():
    assert {v.family for v in VARIANTS} == set(FAMILIES)
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    for v in VARIANTS:
        se.get_config("slowfast_tiny", 6, **v.overrides)  # valid overrides (TtoC sum included)
        assert (v.paper_top1 is None) == (v.paper_gflops is None) == (v.family == "alpha")


def test_costs_move_the_way_the_paper_says():
    cost = {name: variant_cost(BY_NAME[name].overrides) for name in (
        "SlowFast (T-conv)", "beta=1/4", "beta=1/32", "Slow-only", "Fast-only", "gray-scale",
        "no lateral", "alpha=2", "alpha=8")}
    base = cost["SlowFast (T-conv)"]
    model = se.build_model("slowfast_tiny", num_classes=6).eval()
    assert base["params"] == se.count_params(model)
    assert base["gflops"] == pytest.approx(se.count_flops(model, se.example_inputs(model.cfg, 48)))
    assert cost["beta=1/4"]["gflops"] > base["gflops"] > cost["beta=1/32"]["gflops"]
    assert cost["Fast-only"]["gflops"] < cost["Slow-only"]["gflops"] < cost["no lateral"]["gflops"]
    assert cost["no lateral"]["gflops"] < base["gflops"]
    assert base["params"] - cost["gray-scale"]["params"] == 2 * 4 * 5 * 7 * 7  # stem in: 3 -> 1
    # the same Fast clip (16 frames): more Slow frames for a smaller alpha, same weights
    assert cost["alpha=2"]["gflops"] > base["gflops"] > cost["alpha=8"]["gflops"]
    assert cost["alpha=2"]["params"] == base["params"] == cost["alpha=8"]["params"]


@pytest.mark.parametrize("name", ["SlowFast (T-conv)", "T-sample", "TtoC concat", "TtoC sum",
                                  "no lateral", "Slow-only", "beta=1/16", "beta=1/32",
                                  "gray-scale"])
def test_the_paper_gflops_of_table5_are_reproduced_on_4x16_r50(name):
    variant = BY_NAME[name]
    assert paper_variant_cost(variant)["gflops"] == pytest.approx(variant.paper_gflops, abs=0.1)


def test_paper_cost_needs_a_table5_variant():
    with pytest.raises(ValueError, match="not in the paper's Table 5"):
        paper_variant_cost(BY_NAME["alpha=2"])


def test_variant_config_points_at_the_data_and_keeps_the_recipe(tmp_path):
    config = variant_config(tmp_path, {"beta_inv": 16}, ["train.epochs=2"])
    assert config["model"] == {"name": "slowfast_tiny", "overrides": {"beta_inv": 16},
                               "pretrained": None, "head": None}
    assert config["data"]["train"] == str(tmp_path / "train.csv")
    assert config["train"]["epochs"] == 2 and config["data"]["flip"] is False


def test_run_ablation_trains_variants_with_equal_budgets(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_dataset(data, videos_per_class_train=1, videos_per_class_val=1, num_frames=16, size=32,
                  progress=False)
    made, sets = [], []  # the alphas datasets were made for: once per alpha, shared by its variants

    def recording(config):
        made.append(se.get_config("slowfast_tiny", **config["model"]["overrides"]).alpha)
        sets.append(datasets_from_config(config))
        return sets[-1]

    monkeypatch.setattr(ablation, "datasets_from_config", recording)
    chosen = [BY_NAME["SlowFast (T-conv)"], BY_NAME["Slow-only"], BY_NAME["alpha=8"]]
    results = run_ablation(data, tmp_path / "out", chosen, SMALL, progress=False)
    assert [r["name"] for r in results] == ["SlowFast (T-conv)", "Slow-only", "alpha=8"]
    assert made == [4, 8]
    # decoded once: alpha 8 packs the frames alpha 4's datasets decoded
    assert sets[1][0].cache is sets[0][0].cache and sets[1][1].cache is sets[0][1].cache
    assert sets[1][0].alpha == 8 and sets[0][0].cache is not None
    assert {r["steps"] for r in results} == {1}  # 6 clips, batch 6: one step each
    for r, v in zip(results, chosen):
        assert 0.0 <= r["val_top1"] <= 1.0
        assert r["params"] == se.count_params(se.build_model("slowfast_tiny", 6, **v.overrides))
        assert r["gflops"] == pytest.approx(variant_cost(v.overrides, size=32)["gflops"])
        assert (tmp_path / "out" / f"{chosen.index(v):02d}" / "last.pt").is_file()
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["name"] for r in saved] == [r["name"] for r in results]
    table = (tmp_path / "out" / "results.md").read_text()
    assert "| Slow-only | fusion | 2,344,998 |" in table and "| 72.6 | 27.3 |" in table
    fig = plot_ablation(results)
    assert [ax.get_title() for ax in fig.axes] == [  # (ours, paper) x (fusion, alpha)
        "fusion: ours", "alpha: ours", "fusion: paper, Table 5", "alpha: paper, Table 5"]
    fusion_ours, alpha_ours, fusion_paper, alpha_paper = fig.axes
    assert len(fusion_ours.collections) == len(fusion_paper.collections) == 2  # default, Slow-only
    assert len(alpha_ours.collections) == 2 and len(alpha_paper.collections) == 0
    assert [t.get_text() for t in alpha_paper.texts] == ["not in the paper's Table 5"]
    # two worker processes of one thread each, the costlier variant first: the same results
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    at_once = run_ablation(data, tmp_path / "at_once", chosen[1:], SMALL, progress=False,
                           workers=2)
    assert [r["name"] for r in at_once] == ["Slow-only", "alpha=8"]
    without_time = lambda r: {k: v for k, v in r.items() if k != "minutes"}  # noqa: E731
    assert [without_time(r) for r in at_once] == [without_time(r) for r in results[1:]]

