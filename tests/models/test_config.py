"""Wrong settings and wrong inputs stop at once, naming the field (or clip), the value and what is
allowed (issue 12), instead of failing later inside torch; plain intents are taken and said."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models import ConfigError, SlowFastConfig
from slowfast_edu.models.config import _CHECKS, config_fields

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone


@pytest.mark.parametrize("overrides, message", [
    ({"alpha": "4"}, r"alpha must be an integer >= 1, got '4' \(a str\); write alpha=4"),
    ({"alpha": 2.5}, r"alpha must be an integer >= 1, got 2.5: it is not a whole number"),
    ({"beta_inv": "8"}, r"beta_inv must be an integer >= 1, got '8' \(a str\); write beta_inv=8"),
    ({"alpha": 0}, r"alpha must be an integer >= 1, got 0 \(too small\)"),
    ({"alpha": True}, r"alpha must be an integer >= 1, got True \(a bool\)"),
    ({"num_classes": None}, r"num_classes must be an integer >= 1, got None \(a NoneType\)"),
    ({"fusion_kernel": 4}, r"fusion_kernel must be an odd integer >= 1, got 4 \(even: padding"),
    ({"slow_temporal_kernels": (1, 1, 3)}, r"slow_temporal_kernels needs one odd integer per "
                                           r"stage res2..res5 \(4 in all\), got \(1, 1, 3\)"),
    ({"fast_temporal_kernels": (3, 3, 2, 3)}, r"fast_temporal_kernels\[2\] must be an odd"),
    ({"stage_blocks": (1, 1, 0, 1)}, r"stage_blocks\[2\] must be an integer >= 1, got 0"),
    ({"nonlocal_blocks": (0, 1)}, r"nonlocal_blocks needs one tuple of block indices per stage"),
    ({"res4_temporal_blocks": 7}, r"res4_temporal_blocks must be at most the 1 res4 blocks"),
    ({"pool1": "no"}, r"pool1 must be True or False, got 'no' \(a str\)"),
    ({"dropout": 1.5}, r"dropout must be a probability in \[0, 1\), got 1.5"),
    ({"head": "sigmoid"}, r"head must be one of 'classification', 'multilabel', 'detection'; "
                          r"got 'sigmoid'"),
    ({"fast_input": 3}, r"fast_input must be one of 'rgb', 'gray', 'time_diff', 'half_res'; got 3"),
    ({"arch": "slowfast_r50"}, r"arch must be one of 'slowfast', 'slow', 'fast'"),
])
def test_bad_fields_are_refused_with_name_value_and_what_is_allowed(overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        se.build_model("slowfast_tiny", **overrides)
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)


def test_plain_intents_are_taken_and_said():
    with pytest.warns(UserWarning, match=r"alpha=4.0 taken as 4"):
        cfg = se.get_config("slowfast_tiny", alpha=4.0)
    assert cfg.alpha == 4 and type(cfg.alpha) is int
    with pytest.warns(UserWarning, match=r"pool1=0 taken as False"):
        assert se.get_config("slowfast_tiny", pool1=0).pool1 is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # these are the same values: nothing to say
        cfg = se.get_config("slowfast_tiny", alpha=np.int64(4), stage_blocks=[1, 1, 2, 1],
                            nonlocal_blocks=[[], [], [0, 1], []], dropout=0)
    assert cfg.alpha == 4 and type(cfg.alpha) is int
    assert cfg.stage_blocks == (1, 1, 2, 1) and cfg.nonlocal_blocks == ((), (), (0, 1), ())
    assert cfg.dropout == 0.0 and type(cfg.dropout) is float
    hash(cfg)  # frozen and hashable, lists included


def test_every_field_is_checked():
    assert set(_CHECKS) == set(config_fields())
    assert SlowFastConfig() == SlowFastConfig(**{f: getattr(SlowFastConfig(), f)
                                                 for f in config_fields()})


@pytest.mark.parametrize("name", ["slowfast_tiny", "slow_tiny", "fast_tiny"])
def test_uint8_frames_are_refused_with_what_the_model_takes(name):
    model = se.build_model(name)
    frames = [(torch.rand(x.shape) * 255).to(torch.uint8) for x in se.example_inputs(model.cfg, 32)]
    with pytest.raises(TypeError, match=r"clip holds torch.uint8 values, but the network takes "
                                        r"float frames normalised .*\(pixels / 255 - 0.45\) / "
                                        r"0.225 .*slowfast_edu.data.test_transform"):
        model(frames)


def test_frames_in_the_wrong_order_get_a_hint():
    model = se.build_model("slowfast_tiny")
    slow, fast = se.example_inputs(model.cfg, 32)
    with pytest.raises(ValueError, match=r"slow clip has 4 channels on axis 1, the network takes "
                                         r"3.*x.permute\(0, 4, 1, 2, 3\)"):
        model([slow.permute(0, 2, 3, 4, 1), fast.permute(0, 2, 3, 4, 1)])
    gray = se.build_model("slowfast_tiny", fast_input="gray").eval()
    with torch.no_grad():  # the grey Fast input takes frames already grey, or RGB
        assert torch.equal(gray([slow, fast]), gray([slow, gray.fast_input(fast)]))


def test_float64_frames_are_converted_and_said():
    model = se.build_model("slowfast_tiny").eval()
    inputs = se.example_inputs(model.cfg, 32)
    with torch.no_grad():
        expected = model(inputs)
        with pytest.warns(UserWarning, match=r"the clips are torch.float64 and the network's "
                                             r"weights torch.float32: converted to torch.float32"):
            given = model([x.double() for x in inputs])
    assert given.dtype == torch.float32 and torch.allclose(given, expected, atol=1e-6)
