"""The pieces of the recipe: schedule, optimizer groups, lr scaling, config, metrics, sampler."""

from __future__ import annotations

import math

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.train.config import (CONFIG_DIR, ConfigError, find_config, load_config,
                                        shipped_configs)
from slowfast_edu.train.loader import ResumableSampler, SeededViews
from slowfast_edu.train.metrics import VideoScores, topk_correct
from slowfast_edu.train.optim import build_optimizer, parameter_groups, scaled_lr
from slowfast_edu.train.schedule import learning_rate


def test_schedule_warms_up_linearly_then_follows_a_cosine_to_zero():
    # PySlowFast's K400 recipe: 196 epochs, 34 warm-up epochs from 0.01 to the cosine, peak 0.8
    lr = lambda e: learning_rate(e, 196, 0.8, 34, 0.01 / 0.8)  # noqa: E731
    assert lr(0) == pytest.approx(0.01)
    cos34 = 0.8 * (math.cos(math.pi * 34 / 196) + 1) / 2
    assert lr(17) == pytest.approx((0.01 + cos34) / 2)
    assert lr(34) == pytest.approx(cos34)
    assert lr(98) == pytest.approx(0.4)
    assert lr(196) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(5, 10, 1.0, final_lr_factor=0.1) == pytest.approx(0.55)


def test_no_weight_decay_on_bn_and_biases_and_nesterov():
    model = se.build_model("slowfast_tiny", num_classes=3)
    decay, no_decay = parameter_groups(model, 1e-4)
    bn = [p for m in model.modules() if isinstance(m, torch.nn.BatchNorm3d)
          for p in m.parameters()]
    assert {id(p) for p in no_decay["params"]} == {id(p) for p in bn} | {
        id(model.head.proj.bias)}
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    opt = build_optimizer(model, 0.1)
    assert opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    assert scaled_lr(0.1, 8, 64) == pytest.approx(0.0125)


def test_config_defaults_overrides_and_typos(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {name: slow_tiny}\ntrain: {epochs: 3}\n")
    config = load_config(path, ["train.epochs=5", "optim.base_lr=5e-2",
                                "model.overrides={alpha: 8}"])
    assert config["train"]["epochs"] == 5 and config["optim"]["base_lr"] == 0.05
    assert config["model"] == {"name": "slow_tiny", "overrides": {"alpha": 8}, "pretrained": None,
                               "head": None}
    assert config["optim"]["nesterov"] is True  # a default
    with pytest.raises(ConfigError, match="unknown setting 'train.epoch'.*train.epochs"):
        load_config(path, ["train.epoch=2"])
    with pytest.raises(ConfigError, match="not key=value"):
        load_config(path, ["epochs"])
    with pytest.raises(ConfigError, match="no config file at .*nope.yaml; the shipped configs "
                                          "are ava_slowfast_8x8_r50, default_detector, "
                                          "default_model, kinetics400_8x8_r50"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("override, words", [
    ("train.batch_size=abc", "train.batch_size must be an integer (default 8), got 'abc'"),
    ("train.batch_size=2.5", "train.batch_size must be an integer"),
    ("train.batch_size=0", "train.batch_size must be at least 1"),
    ("train.epochs=null", "train.epochs cannot be null"),
    ("optim.base_lr=fast", "optim.base_lr must be a number (default 0.1), got 'fast'"),
    ("optim.nesterov=1", "optim.nesterov must be true or false"),
    ("data.flip=yes please", "data.flip must be true or false"),
    ("train.amp=maybe", "train.amp must be one of 'auto', 'bf16', 'fp16', 'off'"),
    ("data.short_side=[64]", "data.short_side must be a list [min, max] of two integers"),
    ("data.num_workers=-1", "data.num_workers must be at least 0"),
    ("data.multiprocessing_context=threads", "must be one of 'spawn', 'forkserver', 'fork'"),
    ("data.synthetic={colour: red}", "data.synthetic takes train_per_class"),
    ("model.overrides=4", "model.overrides is a mapping of model settings"),
    ("train=3", "train is a section"),
])
def test_overrides_are_type_checked_with_the_key_named(override, words):
    with pytest.raises(ConfigError) as error:
        load_config(None, [override])
    assert words in str(error.value) and f"override {override!r}" in str(error.value)


def test_numbers_are_numbers():
    config = load_config(None, ["optim.base_lr=1e-4", "optim.warmup_epochs=2",
                                "data.synthetic={frames: 16}", "data.synthetic={size: 32}"])
    assert config["optim"]["base_lr"] == 1e-4 and config["optim"]["warmup_epochs"] == 2.0
    assert isinstance(config["optim"]["warmup_epochs"], float)
    assert config["data"]["synthetic"] == {"frames": 16, "size": 32}  # merged, one key at a time


def test_a_shipped_config_is_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("synthetic_tiny_cpu", "synthetic_tiny_cpu.yaml",
                 "configs/synthetic_tiny_cpu.yaml"):
        assert find_config(name) == CONFIG_DIR / "synthetic_tiny_cpu.yaml"
    assert set(shipped_configs()) == {"ava_slowfast_8x8_r50", "default_detector", "default_model",
                                      "kinetics400_8x8_r50", "kinetics_subset_8x8_r50",
                                      "synthetic_detection_tiny_cpu", "synthetic_multilabel_cpu",
                                      "synthetic_tiny_cpu"}
    (tmp_path / "mine.yaml").write_text("train: {epochs: 2}\n")
    assert load_config("mine.yaml")["train"]["epochs"] == 2  # a file comes first


def test_views_are_averaged_per_video():
    scores = VideoScores(3)
    # video 0 (label 2): one view says class 0 a little, two views say class 2
    scores.add(torch.tensor([[2.0, 0, 0], [0, 0, 3], [0, 0, 3]]), torch.tensor([2, 2, 2]),
               torch.tensor([0, 0, 0]))
    scores.add(torch.tensor([[0.0, 5, 0]]), torch.tensor([0]), torch.tensor([1]))
    r = scores.results()
    assert r["videos"] == 2 and r["top1"] == 0.5 and r["top5"] == 1.0
    assert r["per_class"] == [0.0, 0.0, 1.0]
    assert r["confusion"].tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]
    assert topk_correct(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]), (1, 5)) \
        == [1, 2]


def test_sampler_resumes_and_shards_by_batches():
    full = [i for _, i in ResumableSampler(10, seed=3, batch_size=2)]
    s = ResumableSampler(10, seed=3, batch_size=2)
    s.set_epoch(0, skip=4)
    assert [i for _, i in s] == full[4:]
    ranks = [[i for _, i in ResumableSampler(10, 3, True, r, 2, 2)] for r in range(2)]
    steps = [ranks[0][j:j + 2] + ranks[1][j:j + 2] for j in range(0, 6, 2)]
    assert [i for step in steps for i in step][:10] == full  # rank r = chunk r of each step
    s.set_epoch(1)
    assert [i for _, i in s] != full  # a new order each epoch


def test_seeded_views_are_reproducible_and_leave_the_global_rng_alone():
    class Noise(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return torch.rand(3)

    views = SeededViews(Noise(), seed=1)
    state = torch.get_rng_state()
    a = views[(0, 2)]
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, views[(0, 2)]) and not torch.equal(a, views[(1, 2)])


def test_step_schedule_is_pyslowfasts_steps_with_relative_lrs():
    # PySlowFast's AVA recipe: 0.1, 10x lower at epochs 10 and 15, warm-up over 5 from 0.000125
    steps = dict(steps=[0, 10, 15], relative_lrs=[1, 0.1, 0.01])
    lr = lambda e: learning_rate(e, 20, 0.1, 5, 0.00125, **steps)  # noqa: E731
    assert lr(0) == pytest.approx(0.000125)
    assert lr(2.5) == pytest.approx((0.000125 + 0.1) / 2)  # a line to the step's rate at 5
    assert [lr(e) for e in (5, 9.99, 10, 14.5, 15, 19.9)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    config = load_config("ava_slowfast_8x8_r50")["optim"]
    assert (config["base_lr"], config["reference_batch"], config["weight_decay"],
            config["warmup_epochs"], config["lr_steps"]) == (0.1, 64, 1e-7, 5, {0: 1, 10: 0.1,
                                                                               15: 0.01})
    with pytest.raises(ConfigError, match="optim.lr_steps maps epochs .from 0."):
        load_config(None, ["optim.lr_steps={10: 0.1}"])
    with pytest.raises(ConfigError, match="optim.lr_steps maps epochs"):
        load_config(None, ["optim.lr_steps={0: 1, 10: -1}"])
    replaced = load_config("ava_slowfast_8x8_r50", ["optim.lr_steps={0: 1, 4: 0.5}"])
    assert replaced["optim"]["lr_steps"] == {0: 1, 4: 0.5}  # replaced, not merged
