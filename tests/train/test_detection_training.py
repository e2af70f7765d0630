"""The trainer on detection configs: BCE on boxes, frame mAP, exact resume, eval, the Kinetics
backbone, the GPU config, and a reduced detection lesson (tiny sizes, a few steps)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml

import slowfast_edu as se
from slowfast_edu.cli import main
from slowfast_edu.data.synthetic_detection import write_dataset
from slowfast_edu.models.presets import PRESETS
from slowfast_edu.train import detection as det
from slowfast_edu.train import engine
from slowfast_edu.train.config import ConfigError, load_config, resolve_config
from slowfast_edu.train.lesson_detection import (MODELS, check_detection_lesson,
                                                 run_detection_lesson)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: faster alone


@pytest.fixture(scope="module")
def detection_set(tmp_path_factory) -> Path:
    """4 + 2 videos of 32 x 32, 2 key frames each (8 training, 4 val key frames)."""
    root = tmp_path_factory.mktemp("detection")
    write_dataset(root, videos_train=4, videos_val=2, num_key_frames=2, size=32, progress=False)
    return root


def _config(path: Path, data: Path, **train) -> Path:
    config = {"seed": 0, "model": {"name": "slowfast_tiny_detection",
                                   "overrides": {"slow_frames": 2}},  # 8 frames: fast
              "data": {"train": str(data / "train.csv"), "val": str(data / "val.csv"),
                       "video_root": str(data / "videos"),
                       "classnames": str(data / "label_map.pbtxt"), "crop_size": 32,
                       "flip": False, "num_workers": 0, "ava": {"box_jitter": 0.05}},
              "optim": {"base_lr": 0.2, "warmup_epochs": 0.5},
              "train": {"epochs": 2, "batch_size": 4, **train}}
    path.write_text(yaml.safe_dump(config))
    return path


def _train(config: Path, out: Path, *extra: str) -> None:
    assert main(["train", str(config), "--out", str(out), "--quiet", "--device", "cpu",
                 *extra]) == 0


def test_a_detector_trains_resumes_exactly_and_is_evaluated_by_frame_map(detection_set,
                                                                           tmp_path, capsys):
    config = _config(tmp_path / "det.yaml", detection_set)
    _train(config, tmp_path / "full")
    _train(config, tmp_path / "cut", "--max-steps", "1")  # stopped mid-epoch 1 (2 steps each)
    assert torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["step"] == 1
    _train(config, tmp_path / "cut", "--resume")
    full = torch.load(tmp_path / "full" / "last.pt", weights_only=True)
    cut = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)
    assert full["step"] == cut["step"] == 4
    assert all(torch.equal(full["model_state"][k], cut["model_state"][k])
               for k in full["model_state"])  # bit for bit
    metrics = (tmp_path / "full" / "metrics.csv").read_text()
    assert metrics == (tmp_path / "cut" / "metrics.csv").read_text()
    rows = list(csv.DictReader(metrics.splitlines()))
    assert list(rows[0]) == ["split", "epoch", "step", "lr", "loss", "top1", "top5", "map"]
    val = [r for r in rows if r["split"] == "val"]
    assert [r["epoch"] for r in val] == ["1", "2"] and all(0 <= float(r["map"]) <= 1 for r in val)
    assert full["classnames"] == ["moving_left", "moving_right", "staying_still"]
    assert (tmp_path / "full" / "best.pt").exists() and (tmp_path / "full" / "curves.png").exists()
    capsys.readouterr()
    # eval: the best checkpoint's frame mAP, the same view as validation
    assert main(["eval", str(config), "--checkpoint", str(tmp_path / "full"), "--device", "cpu",
                 "--out", str(tmp_path / "eval")]) == 0
    printed = capsys.readouterr().out
    assert "4 key frames" in printed and "ground-truth boxes: frame mAP@0.5" in printed
    result = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert result["frame_map"] == pytest.approx(max(float(r["map"]) for r in val), abs=1e-6)
    assert set(result["per_class_ap"]) <= {"moving_left", "moving_right", "staying_still"}


def test_the_loss_is_bce_on_each_boxs_sigmoid_outputs():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, 0.0]])
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    p = logits.sigmoid()
    by_hand = -(labels * p.log() + (1 - labels) * (1 - p).log()).mean()
    assert det.detection_loss(logits, labels).item() == pytest.approx(by_hand.item(), abs=1e-6)
    assert det.box_top1_correct(logits, labels) == 1  # box 0's top (0) is its; box 1's (1) not


def test_proposals_and_bad_detection_settings(detection_set, tmp_path):
    config = load_config(_config(tmp_path / "det.yaml", detection_set),
                         [f"data.ava.proposals={detection_set / 'val_proposals.csv'}"])
    val = det.detection_dataset(config, "val")
    # the person boxes scoring >= 0.8 (every true box, no false one), with no actions
    assert sum(len(k.boxes) for k in val.key_frames) == len(det.ground_truth(config, val))
    assert all(k.labels.sum() == 0 for k in val.key_frames)
    with pytest.raises(ConfigError, match="data.ava: unknown setting"):
        det.ava_settings({"ava": {"proposal": "x.csv"}})
    with pytest.raises(ConfigError, match="score_threshold must be a number"):
        det.ava_settings({"ava": {"score_threshold": "high"}})
    missing = load_config(tmp_path / "det.yaml", ["data.video_root=nowhere"])
    with pytest.raises(FileNotFoundError, match="data.video_root: nowhere does not exist"):
        det.prepare_detection_data(resolve_config(missing), progress=False)


def test_the_gpu_recipe_starts_the_backbone_from_kinetics_400(monkeypatch):
    config = resolve_config(load_config("ava_slowfast_8x8_r50"))
    assert det.is_detection(config) and config["model"]["pretrained"] == "kinetics400"
    assert (config["data"]["num_frames"], config["data"]["sampling_rate"]) == (32, 2)
    assert config["optim"]["weight_decay"] == 1e-7
    for detector, backbone in det.KINETICS_BACKBONE.items():
        assert PRESETS[backbone].weights is not None  # published Kinetics-400 weights
        with torch.device("meta"):
            ours = se.build_model(detector).state_dict()
            theirs = se.build_model(backbone).state_dict()
        body = {k: v.shape for k, v in ours.items() if not k.startswith("head.")}
        assert body == {k: v.shape for k, v in theirs.items() if not k.startswith("head.")}
    # in small form: the tiny detector from a (stand-in) Kinetics classifier of its backbone
    monkeypatch.setitem(det.KINETICS_BACKBONE, "slowfast_tiny_detection", "slowfast_tiny")
    asked = []

    def fake_load_pretrained(name):
        asked.append(name)
        torch.manual_seed(1)
        return se.build_model(name)

    monkeypatch.setattr(engine, "load_pretrained", fake_load_pretrained)
    small = load_config(None, ["model.name=slowfast_tiny_detection",
                               "model.pretrained=kinetics400"])
    torch.manual_seed(0)
    model = engine.build_from_config(small, 3)
    kinetics = fake_load_pretrained("slowfast_tiny").state_dict()
    state = model.state_dict()
    assert asked == ["slowfast_tiny", "slowfast_tiny"]
    assert all(torch.equal(state[k], kinetics[k]) for k in state if not k.startswith("head."))
    assert state["head.proj.weight"].shape == (3, kinetics["head.proj.weight"].shape[1])


def test_a_reduced_detection_lesson_writes_its_outputs_with_equal_budgets(detection_set,
                                                                          tmp_path):
    out = tmp_path / "lesson"
    assert main(["lesson", "detection", "--out", str(out), "--data", str(detection_set),
                 "--quiet", "data.crop_size=32", "train.epochs=1", "train.batch_size=4",
                 "train.eval_every=1", "train.threads=1"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results) == list(MODELS)
    assert {r["steps"] for r in results.values()} == {2}  # 8 key frames / 4: equal budgets
    assert all(0 <= r["frame_map"] <= 1 for r in results.values())
    for name in ("run.json", "results.md", "results.png"):
        assert (out / name).stat().st_size > 0
    assert "| slowfast | slowfast_tiny_detection |" in (out / "results.md").read_text()
    met, missed = check_detection_lesson(results, json.loads((out / "run.json").read_text()))
    assert any("equal budgets" in line for line in met)
    assert any(line.startswith("SlowFast frame mAP") for line in met + missed)
