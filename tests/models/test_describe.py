"""`describe` reproduces the paper's Table 1 from the built network."""

from __future__ import annotations

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models import build_network

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone


def table(name: str, size: int = 224):
    cfg = se.get_config(name)
    with torch.device("meta"):
        model = build_network(cfg)
        return se.describe(model, se.example_inputs(cfg, size, device="meta"))


def test_table1_slowfast_4x16_r50():
    rows = {r.stage: r for r in table("slowfast_4x16_r50")}
    assert rows["raw clip"].slow_out == (3, 4, 224, 224)
    assert rows["raw clip"].fast_out == (3, 32, 224, 224)
    assert rows["data layer"].slow == "stride 16, 1x1" and rows["data layer"].fast == "stride 2, 1x1"
    assert rows["conv1"].slow == "1x7x7, 64, stride 1x2x2"
    assert rows["conv1"].fast == "5x7x7, 8, stride 1x2x2"
    assert rows["pool1"].slow == "1x3x3 max, stride 1x2x2"
    expected = {  # Table 1 of the paper
        "res2": ("[1x1x1, 64; 1x3x3, 64; 1x1x1, 256] x3", "[3x1x1, 8; 1x3x3, 8; 1x1x1, 32] x3"),
        "res3": ("[1x1x1, 128; 1x3x3, 128; 1x1x1, 512] x4",
                 "[3x1x1, 16; 1x3x3, 16; 1x1x1, 64] x4"),
        "res4": ("[3x1x1, 256; 1x3x3, 256; 1x1x1, 1024] x6",
                 "[3x1x1, 32; 1x3x3, 32; 1x1x1, 128] x6"),
        "res5": ("[3x1x1, 512; 1x3x3, 512; 1x1x1, 2048] x3",
                 "[3x1x1, 64; 1x3x3, 64; 1x1x1, 256] x3"),
    }
    sizes = {"conv1": 112, "pool1": 56, "res2": 56, "res3": 28, "res4": 14, "res5": 7}
    for stage, (slow, fast) in expected.items():
        assert (rows[stage].slow, rows[stage].fast) == (slow, fast)
    for stage, s in sizes.items():
        assert rows[stage].slow_out[1:] == (4, s, s)
        assert rows[stage].fast_out[1:] == (32, s, s)
    assert rows["lateral pool1"].slow == "Fast->Slow T-conv 5x1x1, 16, stride 8, concat"
    assert rows["lateral pool1"].slow_out == (80, 4, 56, 56)
    assert rows["head"].slow_out == (400,)
    assert "fc 2304 -> 400" in rows["head"].slow


def test_table_prints_and_renders_markdown():
    t = table("slowfast_8x8_r50")
    text = str(t)
    assert "8x56x56, 256" in text and "32x56x56, 32" in text
    assert text.splitlines()[0].split()[:3] == ["stage", "Slow", "pathway"]
    md = t._repr_markdown_()
    assert md.startswith("| stage | Slow pathway |") and "| res5 |" in md


def test_table_shows_r101_temporal_runs_and_nonlocal():
    rows = {r.stage: r for r in table("slowfast_16x8_r101_nl")}
    assert rows["res4"].slow.startswith("[3x1x1 (blocks 1-6) / 1x1x1 (blocks 7-23), 256;")
    assert rows["res4"].slow.endswith("x23 + non-local after blocks 7, 14, 21")
    assert rows["res4"].slow_out == (1024, 16, 14, 14)


def test_single_pathway_table():
    rows = {r.stage: r for r in table("slow_8x8_r50", 256)}
    assert rows["res5"].slow_out == (2048, 8, 8, 8) and rows["res5"].fast_out is None
    assert not any(stage.startswith("lateral") for stage in rows)


def test_describe_leaves_the_model_as_it_was():
    model = se.build_model("slowfast_tiny")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    se.describe(model, se.example_inputs(model.cfg, 32))
    assert model.training
    assert not any(m._forward_hooks for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
