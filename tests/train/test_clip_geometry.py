"""The data section takes the clip its model wants (`clip_geometry`): derived where left out,
refused with the keys named where it contradicts the model, and every shipped config agrees."""

from __future__ import annotations

import pytest
import yaml

from slowfast_edu.models import clip_geometry, get_config
from slowfast_edu.train.config import (CONFIG_DIR, GEOMETRY_KEYS, ConfigError, load_config,
                                       resolve_config, shipped_configs)
from slowfast_edu.train.datasets import datasets_from_config


def resolved(*overrides: str, path=None) -> dict:
    return resolve_config(load_config(path, list(overrides)))


@pytest.mark.parametrize("name", shipped_configs())
def test_every_shipped_config_agrees_with_its_model(name):
    written = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    config = resolved(path=name)  # raises if the file contradicts its model
    model, data = config["model"], config["data"]
    geometry = clip_geometry(get_config(model["name"], **model["overrides"]))
    assert {k: data[k] for k in GEOMETRY_KEYS} == {k: getattr(geometry, k) for k in GEOMETRY_KEYS}
    for key in GEOMETRY_KEYS:  # what a file says, it says in agreement with the model
        if key in written.get("data", {}):
            assert written["data"][key] == data[key], (name, key)
    assert min(data["short_side"]) >= geometry.crop_size


def test_the_shipped_configs_say_what_they_mean():
    tiny = resolved(path="synthetic_tiny_cpu")  # slowfast_tiny (a 64 px preset) on 48 px clips
    assert tiny["model"]["overrides"] == {"crop_size": 48}  # recorded: the model is trained at 48
    assert [tiny["data"][k] for k in ("num_frames", "sampling_rate", "test_crop_size")] == [
        16, 1, 48]
    assert tiny["data"]["short_side"] == [48, 48]  # small crops: no rescaling
    k400 = resolved(path="kinetics400_8x8_r50")
    assert [k400["data"][k] for k in ("num_frames", "sampling_rate", "crop_size",
                                      "test_short_side", "test_crop_size")] == [32, 2, 224, 256,
                                                                                256]
    assert k400["data"]["short_side"] == [256, 320] and k400["model"]["overrides"] == {}
    assert resolved(path="default_model")["model"]["overrides"] == {"pool1": False}


def test_left_out_keys_are_derived_from_the_model():
    config = resolved("model.name=slowfast_4x16_r50")  # alpha 8, T 4, tau 16
    assert (config["data"]["num_frames"], config["data"]["sampling_rate"]) == (32, 2)
    config = resolved("model.overrides={slow_frames: 2, tau: 8}")  # slowfast_tiny: alpha 4
    assert (config["data"]["num_frames"], config["data"]["sampling_rate"]) == (8, 2)
    assert resolve_config(config) == config  # resolving twice changes nothing


@pytest.mark.parametrize("overrides, named, suggestion", [
    (["data.num_frames=32"], ["data.num_frames=32 (the model's: 16)"], "slow_frames: 8"),
    (["data.sampling_rate=2", "data.num_frames=16"], ["data.sampling_rate=2 (the model's: 1)"],
     "model.overrides={tau: 8}"),
    (["model.name=slowfast_8x8_r50", "data.num_frames=16", "data.sampling_rate=4"],
     ["data.num_frames=16 (the model's: 32)", "data.sampling_rate=4 (the model's: 2)"],
     "model.overrides={slow_frames: 4, tau: 16}"),
    (["data.test_crop_size=56"], ["data.test_crop_size=56 (the model's: 64)"], None),
    (["data.target_fps=25"], ["data.target_fps=25.0 (the model's: 30.0)"], None),
])
def test_a_contradiction_is_refused_with_the_keys_named(overrides, named, suggestion):
    with pytest.raises(ConfigError, match="the data section contradicts the clip") as error:
        resolved(*overrides)
    message = str(error.value)
    assert all(words in message for words in named), message
    assert suggestion is None or suggestion in message


def test_crop_sizes_the_data_and_the_model_both_give_must_agree():
    config = resolved("data.crop_size=32")  # may differ from the preset's 64: adopted
    assert config["model"]["overrides"]["crop_size"] == 32
    assert (config["data"]["test_short_side"], config["data"]["test_crop_size"]) == (32, 32)
    assert resolved("data.crop_size=32", "model.overrides={crop_size: 32}") == config
    with pytest.raises(ConfigError, match="data.crop_size=32 and model.overrides.crop_size=48 "
                                          "disagree"):
        resolved("data.crop_size=32", "model.overrides={crop_size: 48}")
    with pytest.raises(ConfigError, match=r"data.short_side=\[32, 40\] is smaller than the crop "
                                          r"\(64 pixels\)"):
        resolved("data.short_side=[32, 40]")


def test_a_bad_model_section_names_the_model():
    with pytest.raises(ConfigError, match="model: unknown model 'resnet50'"):
        resolved("model.name=resnet50")
    with pytest.raises(ConfigError, match="model: unknown override.*colour"):
        resolved("model.overrides={colour: 2}")


def test_the_datasets_read_alpha_from_the_config_without_building_a_network(video_set,
                                                                            monkeypatch):
    from slowfast_edu.models import presets

    def no_network(*args, **kwargs):
        raise AssertionError("a network was built to read alpha")

    monkeypatch.setattr(presets, "build_network", no_network)
    config = load_config(None, [f"data.train={video_set / 'train.csv'}", "data.crop_size=32",
                                "model.overrides={alpha: 2, slow_frames: 4, tau: 8}"])
    train_set, val_set = datasets_from_config(config)
    (slow, fast), _, _ = train_set[0]
    assert val_set is None and train_set.alpha == 2
    assert (slow.shape[1], fast.shape[1]) == (4, 8)  # T and alpha * T, from the model's config
