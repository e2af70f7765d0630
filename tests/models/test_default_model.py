"""The embedded default model: small, offline, it knows the synthetic classes and its world; the
export that makes it refuses bad files with a clear message (issue 12)."""

from __future__ import annotations

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.cli import main
from slowfast_edu.models import CheckpointError
from slowfast_edu.models.default import DEFAULT_MODEL, export_int8, load_exported


def test_default_model_is_shipped_small_and_loads_offline():
    assert DEFAULT_MODEL.is_file(), "the package must ship slowfast_edu/assets/default_model.pt"
    assert DEFAULT_MODEL.stat().st_size <= 4 * 1024 * 1024  # with its domain check
    model = se.load_default_model()
    assert not model.training and model.cfg.arch == "slowfast"
    assert len(model.classnames) == model.head.proj.out_features
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # configs/default_model.yaml: slowfast_tiny without pool1, at 64 x 64 (res5 maps 8 x 8)
    assert model.info["seed"] == 0 and model.cfg.pool1 is False and model.cfg.crop_size == 64
    domain = model.domain  # made by `make default-model` from data/synthetic_64/train.csv
    assert domain.means.shape == (6, 1152) and domain.basis.shape == (32, 1152)
    assert domain.info["train_views"] == 240 * 4 and domain.info["heldout_views"] == 120
    assert "synthetic motion set" in domain.description
    # its recorded accuracy and held-out acceptance are checked by `make default-model`, which
    # makes it (scripts/check_default_model.py); here, what it does: the test below


def test_default_model_classifies_generated_synthetic_clips(one_torch_thread):
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
    path = export_int8(tmp_path / "last.pt", tmp_path / "m.pt")
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
    with pytest.raises(CheckpointError, match="bad.pt is neither a checkpoint written by "
                                              "slowfast-edu train"):
        torch.save({"x": torch.zeros(1)}, tmp_path / "bad.pt")
        export_int8(tmp_path / "bad.pt", tmp_path / "m2.pt")
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_exported(tmp_path / "nope.pt")


def test_re_exporting_the_default_model_keeps_its_weights_and_check(tmp_path, capsys):
    assert main(["export", str(DEFAULT_MODEL), "--out", str(tmp_path / "again.pt")]) == 0
    assert "wrote" in capsys.readouterr().out
    before, after = load_exported(DEFAULT_MODEL), load_exported(tmp_path / "again.pt")
    assert all(torch.equal(v, after.state_dict()[k]) for k, v in before.state_dict().items())
    assert torch.equal(after.domain.means, before.domain.means)
    assert after.domain.threshold == before.domain.threshold


def _broken_files(folder) -> dict:
    """Files `export` and `load_exported` must refuse, with the words the message must hold."""
    (folder / "noise.pt").write_bytes(b"\x80\x02" + bytes(range(256)) * 4)  # a bad pickle
    torch.save({"model_state": {}, "classnames": ["a"]}, folder / "no_config.pt")  # was KeyError
    tiny = se.build_model("slow_tiny", num_classes=3)  # weights of another network ...
    torch.save({"model_state": tiny.state_dict(), "classnames": ["a", "b", "c"],
                "config": {"model": {"name": "slowfast_tiny", "overrides": {}}}},
               folder / "other_network.pt")  # ... than the config names
    return {"noise.pt": "truncated or corrupt", "no_config.pt": "is neither a checkpoint",
            "other_network.pt": "not those of the slowfast_tiny it names"}


def test_export_refuses_broken_files_with_exit_code_2(tmp_path, capsys):
    for name, why in _broken_files(tmp_path).items():
        out = tmp_path / f"exported_{name}"
        assert main(["export", str(tmp_path / name), "--out", str(out)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("error: ") and name in err and why in err, err
        assert "Traceback" not in err and not out.exists()  # nothing written
        assert not list(tmp_path.glob(".*.part"))
        with pytest.raises(CheckpointError, match=name):
            load_exported(tmp_path / name)


def test_export_fits_a_domain_check_on_video_lists(tmp_path, capsys, one_torch_thread):
    samples = DEFAULT_MODEL.parents[2] / "data_samples"  # 2 training, 3 validation clips a class
    out = tmp_path / "checked.pt"
    assert main(["export", str(DEFAULT_MODEL), "--out", str(out), "--quiet",
                 "--domain-train", str(samples / "train.csv"),
                 "--domain-heldout", str(samples / "val.csv"),
                 "--domain-description", "twelve clips"]) == 0
    assert "domain check: threshold" in capsys.readouterr().out
    check = load_exported(out).domain
    assert check.description == "twelve clips" and check.info["train_views"] == 12 * 4
    assert check.info["heldout_views"] == 18 and check.info["heldout_top1"] == 1.0
    assert main(["export", str(DEFAULT_MODEL), "--out", str(out), "--domain-train", "x.csv"]) == 2
    assert "--domain-heldout go together" in capsys.readouterr().err
