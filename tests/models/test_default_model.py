"""The embedded default model: small, offline, and it knows the synthetic classes."""

from __future__ import annotations

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models.default import DEFAULT_MODEL, export_checkpoint, load_exported


def test_default_model_is_shipped_small_and_loads_offline():
    assert DEFAULT_MODEL.is_file(), "the package must ship slowfast_edu/assets/default_model.pt"
    assert DEFAULT_MODEL.stat().st_size <= 5 * 1024 * 1024
    model = se.load_default_model()
    assert not model.training and model.cfg.arch == "slowfast"
    assert len(model.classnames) == model.head.proj.out_features
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.info["best_top1"] >= 0.95  # its validation top-1 on the synthetic set
    # configs/default_model.yaml: slowfast_tiny without pool1, at 64 x 64 (res5 maps 8 x 8)
    assert model.info["seed"] == 0 and model.cfg.pool1 is False and model.cfg.crop_size == 64


def test_default_model_classifies_generated_synthetic_clips():
    from slowfast_edu.data import pack_pathways, test_transform
    from slowfast_edu.data.synthetic import CLASSES, generate_clip

    model = se.load_default_model()
    assert model.classnames == list(CLASSES)
    cfg = model.cfg
    correct = 0
    for class_id in range(len(CLASSES)):
        frames = torch.from_numpy(generate_clip(class_id, seed=123_456 + class_id, num_frames=16,
                                                size=cfg.crop_size))  # 64 x 64, as trained
        clip = test_transform(cfg.crop_size, cfg.crop_size)(frames)
        with torch.no_grad():
            logits = model([x[None] for x in pack_pathways(clip, cfg.alpha)])
        correct += int(logits.argmax(1).item() == class_id)
    assert correct >= len(CLASSES) - 1  # unseen clips, one view each


def test_export_round_trip(tmp_path):
    model = se.build_model("slowfast_tiny", num_classes=3)
    ckpt = {"model_state": model.state_dict(), "classnames": ["a", "b", "c"], "step": 7,
            "config": {"seed": 0, "model": {"name": "slowfast_tiny", "overrides": {}}}}
    torch.save(ckpt, tmp_path / "last.pt")
    path = export_checkpoint(tmp_path / "last.pt", tmp_path / "m.pt")
    loaded = load_exported(path)
    assert loaded.classnames == ["a", "b", "c"] and loaded.info["step"] == 7
    assert path.stat().st_size < 0.3 * 4 * se.count_params(model)  # int8 weights, not float32
    for k, v in model.state_dict().items():
        if v.is_floating_point() and v.dim() >= 2:  # int8: within half a step of its channel
            step = v.abs().amax(dim=tuple(range(1, v.dim())), keepdim=True) / 127
            assert ((loaded.state_dict()[k] - v).abs() <= step / 2 + 1e-7).all()
        elif v.is_floating_point():
            assert torch.allclose(loaded.state_dict()[k], v.half().float())
    x = se.example_inputs(model.cfg, 32)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x), atol=0.05)
    with pytest.raises(ValueError, match="not a checkpoint written by slowfast-edu train"):
        torch.save({"x": torch.zeros(1)}, tmp_path / "bad.pt")
        export_checkpoint(tmp_path / "bad.pt", tmp_path / "m2.pt")
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_exported(tmp_path / "nope.pt")
