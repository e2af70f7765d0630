"""`slowfast-edu explain`: files and top-5 JSON from a clip; a clear exit code 2 for a bad clip."""

from __future__ import annotations

import argparse
import json

import av
import numpy as np
import pytest
import torch
from PIL import Image

from slowfast_edu import build_model
from slowfast_edu.models import clip_geometry
from slowfast_edu.explain.cli import add_explain_arguments, parse_target, run_explain


def explain(argv: list[str]) -> int:
    parser = add_explain_arguments(argparse.ArgumentParser(prog="slowfast-edu explain"))
    args = parser.parse_args(argv)
    assert args.func is run_explain
    return args.func(args)


def test_writes_overlays_and_top5_json(clip_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert explain([str(clip_file), "--model", "slowfast_tiny", "--out", str(out)]) == 0
    assert "random weights" in capsys.readouterr().err
    report = json.loads((out / "predictions.json").read_text())
    top5 = report["top5"]
    assert len(top5) == 5 and [r["name"] for r in top5] == [str(r["index"]) for r in top5]
    probs = [r["probability"] for r in top5]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert report["target"]["index"] == top5[0]["index"] and report["mode"] == "per_frame"
    # 16 frames at stride 1 from the centre of 40: the window starts at (40 - 16) / 2
    assert report["frames"] == list(range(12, 28)) and report["fps"] == 30
    with Image.open(out / "gradcam_grid.png") as grid:
        assert grid.size[0] > 4 * grid.size[1]
    with Image.open(out / "gradcam.gif") as gif:
        assert gif.n_frames == 16 and gif.size == (4 * (64 + 4 + 64), 256)
    with av.open(str(out / "gradcam.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 16


def test_a_trainer_checkpoint_gives_its_class_names_and_view(clip_file, tmp_path, capsys):
    torch.manual_seed(0)
    model = build_model("slow_tiny", num_classes=6)
    names = [f"action_{i}" for i in range(6)]
    config = {"model": {"name": "slow_tiny", "overrides": {}},
              "data": {"num_frames": 8, "sampling_rate": 2, "target_fps": 30,
                       "test_short_side": 48, "test_crop_size": 48}}
    checkpoint = tmp_path / "best.pt"
    torch.save({"model_state": model.state_dict(), "config": config, "classnames": names,
                "step": 3}, checkpoint)
    out = tmp_path / "out"
    assert explain([str(clip_file), "--checkpoint", str(checkpoint), "--out", str(out),
                    "--target", "action_4", "--mode", "per_clip"]) == 0
    printed = capsys.readouterr()
    assert "warning" not in printed.err and "action_" in printed.out
    report = json.loads((out / "predictions.json").read_text())
    assert report["target"]["name"] == "action_4" and report["model"] == "slow_tiny (best.pt)"
    assert {r["name"] for r in report["top5"]} <= set(names)
    # 8 frames over a centred 16-frame window (stride 2), by linspace as the reference samples
    assert report["frames"] == torch.linspace(12, 27, 8).long().tolist()
    with Image.open(out / "gradcam.gif") as gif:  # one pathway: 2 of the 8 frames (alpha = 4)
        assert gif.n_frames == 2 and gif.size == (48 * 6, 48 * 6)


def test_a_corrupt_clip_is_exit_code_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "broken_clip.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + np.random.default_rng(0).bytes(2000))
    assert explain([str(bad), "--model", "fast_tiny", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "error: cannot decode 'broken_clip.mp4'" in err
    assert not (tmp_path / "out").exists()


def test_bad_target_and_checkpoint_are_exit_code_2(clip_file, tmp_path, capsys):
    assert explain([str(clip_file), "--model", "fast_tiny", "--out", str(tmp_path),
                    "--target", "dancing"]) == 2
    assert "'dancing' is not a class name" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    assert explain([str(clip_file), "--checkpoint", str(junk), "--out", str(tmp_path)]) == 2
    assert "junk.pt" in capsys.readouterr().err


def test_views_and_targets():
    # explain reads the model's own test view (clip_geometry): the paper's short side 256, crop 256
    with torch.device("meta"):
        r50 = clip_geometry(build_model("slowfast_4x16_r50").cfg)
    assert (r50.num_frames, r50.sampling_rate, r50.test_short_side, r50.test_crop_size) == (
        32, 2, 256, 256)
    assert parse_target(None, ["a", "b"]) is None
    assert parse_target("1", ["a", "b"]) == parse_target("b", ["a", "b"]) == 1
    with pytest.raises(ValueError, match="not a class index"):
        parse_target("2", ["a", "b"])


def test_without_a_model_option_the_default_model_is_used(clip_file, tmp_path, monkeypatch,
                                                          capsys):
    import slowfast_edu.models.loading as loading

    def trained():
        model = build_model("slowfast_tiny", num_classes=9)
        model.classnames = [f"synthetic_{i}" for i in range(9)]
        return model.eval()

    monkeypatch.setattr(loading, "load_default_model", trained)
    assert explain([str(clip_file), "--out", str(tmp_path / "a")]) == 0
    report = json.loads((tmp_path / "a" / "predictions.json").read_text())
    assert report["model"] == "default model" and report["top5"][0]["name"].startswith("synth")
    assert report["in_domain"] is None  # this stand-in carries no domain check
    assert "warning" not in capsys.readouterr().err

    def missing():
        raise FileNotFoundError("the default model file default_model.pt is missing")

    monkeypatch.setattr(loading, "load_default_model", missing)
    assert explain([str(clip_file), "--out", str(tmp_path / "b")]) == 0
    assert "default_model.pt is missing: using slowfast_tiny" in capsys.readouterr().err


def test_the_default_model_says_a_clip_is_outside_its_world(clip_file, tmp_path, capsys):
    assert explain([str(clip_file), "--out", str(tmp_path)]) == 0  # a red square on grey
    printed = capsys.readouterr().out
    assert printed.startswith("This clip is outside this model's world")
    assert "slowfast-edu weights download slowfast_8x8_r50" in printed
    report = json.loads((tmp_path / "predictions.json").read_text())
    assert report["in_domain"] is False and report["domain_score"] > 1
    assert "synthetic motion set" in report["notice"]
