"""Kinetics-600 and -700: the presets' heads and class names, and PySlowFast's Kinetics-600
checkpoints, which are Caffe2 `.pkl` files: their blob names convert, and they are read without
unpickling anything but arrays. The Caffe2 state dicts are built here from our own models, with
the names written out by hand from PySlowFast's `c2_model_loading.py` (the table in caffe2.py)."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch

import slowfast_edu as se
from slowfast_edu.labels import load_label_map
from slowfast_edu.models import build_network, load_weights
from slowfast_edu.models.caffe2 import load_caffe2_checkpoint
from slowfast_edu.models.convert import convert_state_dict, detect_format

from ..conftest import randomize_bn

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone

K_PRESETS = {"slowfast_8x8_r50_k600": 600, "slowfast_8x8_r50_k700": 700,
             "slowfast_16x8_r101_k600": 600, "slowfast_16x8_r101_k700": 700}
BN = {"weight": "s", "bias": "b", "running_mean": "rm", "running_var": "riv"}


def caffe2_names(pyslowfast: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """PySlowFast's names -> Caffe2 blob names (the inverse of PySlowFast's renaming)."""
    last = {}  # the last block of each Slow stage: it names the lateral after that stage
    for key in pyslowfast:
        if m := re.match(r"s(\d)\.pathway0_res(\d+)\.", key):
            last[m[1]] = max(last.get(m[1], 0), int(m[2]))
    blobs = {}
    for key, value in pyslowfast.items():
        layer, param = key.rsplit(".", 1)
        if param == "num_batches_tracked":  # Caffe2 keeps no such counter
            continue
        suffix = {"weight": "w", "bias": "b"}[param] if param in ("weight", "bias") else None
        if m := re.fullmatch(r"s1\.pathway(\d)_stem\.(conv|bn)", layer):
            t = "t_" if m[1] == "1" else ""
            name = f"{t}conv1_{suffix}" if m[2] == "conv" else f"{t}res_conv1_bn_{BN[param]}"
        elif m := re.fullmatch(r"s(\d)_fuse\.(conv_f2s|bn)", layer):
            base = ("t_pool1_subsample" if m[1] == "1"
                    else f"t_res{m[1]}_{last[m[1]]}_branch2c_bn_subsample")
            name = f"{base}_{suffix}" if m[2] == "conv_f2s" else f"{base}_bn_{BN[param]}"
        elif m := re.fullmatch(r"s(\d)\.pathway(\d)_res(\d+)\.branch2\.([abc])(_bn)?", layer):
            t = "t_" if m[2] == "1" else ""
            base = f"{t}res{m[1]}_{m[3]}_branch2{m[4]}"
            name = f"{base}_bn_{BN[param]}" if m[5] else f"{base}_{suffix}"
        elif m := re.fullmatch(r"s(\d)\.pathway(\d)_res(\d+)\.branch1(_bn)?", layer):
            t = "t_" if m[2] == "1" else ""
            base = f"{t}res{m[1]}_{m[3]}_branch1"
            name = f"{base}_bn_{BN[param]}" if m[4] else f"{base}_{suffix}"
        elif m := re.fullmatch(r"s(\d)\.pathway0_nonlocal(\d+)\.(conv_(\w+)|bn)", layer):
            base = f"nonlocal_conv{m[1]}_{m[2]}"
            name = f"{base}_{m[4]}_{suffix}" if m[4] else f"{base}_bn_{BN[param]}"
        elif layer == "head.projection":
            name = f"pred_{suffix}"
        else:
            raise AssertionError(f"no Caffe2 name for {key}")
        blobs[name] = value.numpy() if value.device.type == "cpu" else value
    return blobs


def test_presets_have_600_and_700_classes():
    models = {}
    for name, classes in K_PRESETS.items():
        cfg = se.get_config(name)
        base = se.get_config(name.rsplit("_", 1)[0])
        assert cfg.num_classes == classes and base.num_classes == 400
        assert cfg == base.__class__(**{**vars(base), "num_classes": classes})
        assert se.get_config(name, num_classes=10).num_classes == 10
        with torch.device("meta"):
            models[name] = build_network(cfg)
        assert models[name].head.proj.out_features == classes
    with torch.device("meta"):
        k400 = build_network(se.get_config("slowfast_8x8_r50"))
    for name in ("slowfast_8x8_r50_k600", "slowfast_8x8_r50_k700"):
        extra = (K_PRESETS[name] - 400) * (2048 + 256 + 1)  # fc weights and biases
        assert se.count_params(models[name]) == se.count_params(k400) + extra
    assert se.build_model("slowfast_tiny").head.proj.out_features == 400  # default unchanged


@pytest.mark.parametrize("classes", [600, 700])
def test_class_names_come_from_the_label_maps(shared_dir, classes):
    path = shared_dir / "kinetics" / f"label_map_k{classes}.txt"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    names = load_label_map(path)
    preset = se.get_config(f"slowfast_8x8_r50_k{classes}")
    assert len(names) == len(set(names)) == preset.num_classes
    assert names == sorted(names)  # ids are alphabetical, as Kinetics-400's
    assert "abseiling" in names and "acting in play" in names  # a class Kinetics-400 lacks


def test_caffe2_layout_of_a_k600_model_converts_and_loads():
    torch.manual_seed(0)
    cfg = se.get_config("slowfast_tiny", num_classes=600, stage_blocks=(2, 2, 3, 2),
                        nonlocal_blocks=((), (), (1,), ()))
    source = randomize_bn(build_network(cfg)).eval()
    blobs = caffe2_names(convert_state_dict(source.state_dict(), "slowfast_edu", "pyslowfast"))
    assert {"conv1_w", "t_conv1_w", "t_pool1_subsample_w", "t_res4_2_branch2c_bn_subsample_bn_riv",
            "res3_1_branch2b_bn_rm", "t_res2_0_branch1_w", "nonlocal_conv4_1_theta_b",
            "nonlocal_conv4_1_bn_s", "pred_w"} <= set(blobs)
    blobs.update({"conv1_w_momentum": np.zeros(1), "lr": np.zeros(1), "model_iter": np.zeros(1)})
    assert detect_format(blobs) == "caffe2"
    ours = convert_state_dict({k: torch.as_tensor(v) for k, v in blobs.items()}, "caffe2")
    expected = {k for k in source.state_dict() if not k.endswith("num_batches_tracked")}
    assert set(ours) == expected
    model = load_weights(build_network(cfg).eval(), {k: torch.as_tensor(v) for k, v in
                                                     blobs.items()})
    inputs = se.example_inputs(cfg, 32)
    with torch.inference_mode():
        assert torch.equal(model(inputs), source(inputs))
    with pytest.raises(ValueError, match="read, not written"):
        convert_state_dict(source.state_dict(), "slowfast_edu", "caffe2")
    with pytest.raises(ValueError, match="1 blob.* not Caffe2 SlowFast layers: res2_0_branch9_w"):
        convert_state_dict({**blobs, "res2_0_branch9_w": np.zeros(1)}, "caffe2")


def test_caffe2_names_of_the_published_k600_r101_models():
    # SLOWFAST_32x2_R101_50_50.pkl (8x8) and SLOWFAST_64x2_R101_50_50.pkl (16x8), Kinetics-600
    for name in ("slowfast_16x8_r101_k600", "slowfast_8x8_r101"):
        cfg = se.get_config(name, num_classes=600)
        with torch.device("meta"):
            sd = build_network(cfg).state_dict()
        blobs = caffe2_names(convert_state_dict(sd, "slowfast_edu", "pyslowfast"))
        assert "t_res4_22_branch2c_bn_subsample_w" in blobs and "res4_22_branch2c_w" in blobs
        assert blobs["pred_w"].shape == (600, 2304)
        back = convert_state_dict(blobs, "auto")
        assert set(back) == {k for k in sd if not k.endswith("num_batches_tracked")}
        assert all(back[k].shape == sd[k].shape for k in back)


class _Evil:
    def __reduce__(self):
        return (print, ("this ran",))


def test_caffe2_pickles_are_read_as_arrays_only(tmp_path, capsys):
    model = se.build_model("slowfast_tiny", num_classes=600).eval()
    blobs = caffe2_names(convert_state_dict(model.state_dict(), "slowfast_edu", "pyslowfast"))
    path = tmp_path / "SLOWFAST_TINY.pkl"
    with open(path, "wb") as f:  # as Detectron-era Caffe2 wrote them: protocol 2, {"blobs": ...}
        pickle.dump({"blobs": blobs, "model_iter": 100}, f, protocol=2)
    tensors = load_caffe2_checkpoint(path)
    assert set(tensors) == set(blobs)
    assert torch.equal(tensors["pred_w"], model.head.proj.weight.detach())
    load_weights(se.build_model("slowfast_tiny", num_classes=600), tensors)
    evil = tmp_path / "evil.pkl"
    with open(evil, "wb") as f:
        pickle.dump({"blobs": {"conv1_w": _Evil()}}, f, protocol=2)
    with pytest.raises(ValueError, match=r"GLOBAL (__builtin__|builtins).print is not a NumPy"):
        load_caffe2_checkpoint(evil)
    assert "this ran" not in capsys.readouterr().out
    (tmp_path / "cut.pkl").write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated or not a Caffe2 checkpoint"):
        load_caffe2_checkpoint(tmp_path / "cut.pkl")
    with open(tmp_path / "other.pkl", "wb") as f:
        pickle.dump({"weights": 1}, f)
    with pytest.raises(ValueError, match="has no 'blobs' dict"):
        load_caffe2_checkpoint(tmp_path / "other.pkl")
