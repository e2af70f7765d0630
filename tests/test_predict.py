"""`slowfast_edu.predict`: one call from a clip to an answer, and whether to believe it.

The default model must know its world: every real clip of ../shared/clips, plain noise and a flat
colour are outside it; clips of the synthetic generator with a seed used neither for training
(seed 0) nor for setting the threshold (seed 1) are inside it and classified right.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import slowfast_edu as se
from slowfast_edu.cli import main
from slowfast_edu.data.synthetic import CLASSES, clip_seed, generate_clip, write_video
from slowfast_edu.models.default import DEFAULT_MODEL
from slowfast_edu.views import read_views

TEST_SEED = 2  # the dataset seed of the clips here: 0 trained the model, 1 set its threshold
PER_CLASS = 8
REAL_CLIPS = ["apply_eye_makeup_ucf101.avi", "archery.avi", "arm_wrestling.mp4",
              "basketball_drill_unlabelled.mp4", "cleaning_pool.mp4",
              "cleaning_pool_32frames.mp4", "flipping_pancake.mkv", "yoga.mp4"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> list[tuple[str, int]]:
    """48 unseen clips of the synthetic set, 16 frames of 64 x 64 each, as H.264 files."""
    folder = tmp_path_factory.mktemp("unseen_synthetic")
    clips = []
    for label in range(len(CLASSES)):
        for i in range(PER_CLASS):
            path = folder / f"{CLASSES[label]}_{i}.mp4"
            write_video(path, generate_clip(label, clip_seed(TEST_SEED, "val", label, i), 16, 64))
            clips.append((str(path), label))
    return clips


def test_unseen_synthetic_clips_are_in_the_world_and_classified_right(synthetic,
                                                                      one_torch_thread):
    results = [se.predict(path) for path, _ in synthetic]
    inside = sum(r.in_domain for r in results) / len(results)
    right = sum(r.top5[0][0] == CLASSES[label] for r, (_, label) in zip(results, synthetic))
    assert inside >= 0.95 and right / len(results) >= 0.95, (inside, right)
    assert all(r.notice is None for r in results if r.in_domain)
    r = results[0]
    assert len(r.top5) == 5 and [p for _, p in r.top5] == sorted((p for _, p in r.top5),
                                                                 reverse=True)
    assert r.model == "default model" and "synthetic motion set" in r.world
    assert r.frames == [list(range(16))] and r.views == (1, 1)  # the whole 16-frame clip
    assert set(r.seconds) == {"load", "read", "predict", "total"}


@pytest.mark.parametrize("name", REAL_CLIPS)
def test_every_real_clip_is_outside_the_default_models_world(shared_dir, name,
                                                             one_torch_thread):
    result = se.predict(shared_dir / "clips" / name)
    assert result.in_domain is False and result.domain_score > 1
    assert "outside this model's world" in result.notice
    assert "slowfast-edu weights download slowfast_8x8_r50" in result.notice
    assert str(result).startswith(result.notice)


@pytest.mark.parametrize("kind", ["noise", "flat grey", "flat colour", "frozen frame"])
def test_noise_flat_colour_and_a_still_are_outside(kind, tmp_path, one_torch_thread):
    rng = np.random.default_rng(0)
    frames = {"noise": lambda: rng.integers(0, 256, (32, 64, 64, 3), dtype=np.uint8),
              "flat grey": lambda: np.full((32, 64, 64, 3), 40, np.uint8),  # the background's
              "flat colour": lambda: np.broadcast_to(np.array([250, 130, 120], np.uint8),
                                                     (32, 64, 64, 3)).copy(),  # the circle's
              "frozen frame": lambda: np.repeat(generate_clip(0, 99, 1, 64), 32, axis=0),
              }[kind]()
    assert se.predict(torch.from_numpy(frames)).in_domain is False  # decoded frames ...
    write_video(tmp_path / "clip.mp4", frames)
    assert se.predict(tmp_path / "clip.mp4").in_domain is False  # ... and a file


def test_predict_is_deterministic_and_averages_views(synthetic, one_torch_thread):
    path, label = synthetic[PER_CLASS + 1]  # a red circle moving right
    first, second = se.predict(path), se.predict(path)
    assert first.top5 == second.top5 and first.domain_score == second.domain_score
    assert torch.equal(first.probabilities, second.probabilities)

    result = se.predict(path, views=(2, 3))  # 2 windows x 3 crops, softmax averaged
    model = se.load_default_model()
    views = read_views(path, se.models.clip_geometry(model.cfg), (2, 3))
    assert views.num_views == 6 and views.inputs[1].shape == (6, 3, 16, 64, 64)
    with torch.no_grad():
        expected = torch.stack([model([x[v:v + 1] for x in views.inputs]).softmax(-1)[0]
                                for v in range(6)]).mean(0)
    assert torch.allclose(result.probabilities, expected, atol=1e-5)
    assert result.views == (2, 3) and len(result.frames) == 2


def test_the_model_argument_takes_objects_checkpoints_files_and_presets(
        synthetic, tmp_path, monkeypatch, one_torch_thread):
    path = synthetic[0][0]
    random = se.build_model("slow_tiny", num_classes=3)  # an object: used as it is, no check
    result = se.predict(path, random)
    assert result.in_domain is None and result.domain_score is None and result.notice is None
    assert {n for n, _ in result.top5} == {"0", "1", "2"}
    checkpoint = tmp_path / "best.pt"
    torch.save({"model_state": random.state_dict(), "classnames": ["a", "b", "c"],
                "config": {"model": {"name": "slow_tiny", "overrides": {}},
                           "data": {"num_frames": 8, "sampling_rate": 2}}}, checkpoint)
    result = se.predict(path, checkpoint)  # a trainer checkpoint: its classes and its view
    assert result.model == "slow_tiny (best.pt)" and {n for n, _ in result.top5} == {"a", "b", "c"}
    assert result.frames == [torch.linspace(0, 15, 8).long().tolist()]  # 8 frames, stride 2
    exported = se.predict(path, DEFAULT_MODEL)  # an exported file, with its domain check
    assert exported.in_domain is True and exported.top5 == se.predict(path).top5

    monkeypatch.setenv("SLOWFAST_EDU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(FileNotFoundError, match="`slowfast-edu weights download slow_8x8_r50`"):
        se.predict(path, "slow_8x8_r50")
    with pytest.raises(ValueError, match="slowfast_tiny has no published weights"):
        se.predict(path, "slowfast_tiny")


def test_the_predict_command(synthetic, tmp_path, capsys, one_torch_thread):
    path, label = synthetic[0]
    assert main(["predict", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["top5"][0]["name"] == CLASSES[label] and report["in_domain"] is True
    assert report["notice"] is None and report["frames"] == [list(range(16))]
    noise = np.random.default_rng(1).integers(0, 256, (32, 64, 96, 3), dtype=np.uint8)
    write_video(tmp_path / "noise.mp4", noise)
    assert main(["predict", str(tmp_path / "noise.mp4")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("This clip is outside this model's world")
    assert "Not an answer" in out and "OUTSIDE the model's world" in out
    (tmp_path / "notes.mp4").write_text("not a video")
    assert main(["predict", str(tmp_path / "notes.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot decode 'notes.mp4'") and "Traceback" not in err
