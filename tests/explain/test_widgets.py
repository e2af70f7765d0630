"""The notebook explorer: its picture for given settings, and the widget built without a display."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from slowfast_edu.explain.gradcam import grad_cam
from slowfast_edu.explain.render import overlay, to_frames
from slowfast_edu.explain.widgets import (MEAN_OF_CHANNELS, explore, explorer_frame, frame_at,
                                          png_bytes, prepare_explorer)

from .conftest import clips_for, tiny


@pytest.fixture(scope="module")
def setup():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see conftest._one_thread (this fixture runs before it)
    model = tiny("slowfast_tiny")
    inputs = clips_for(model, batch=1)
    names = [f"class{i}" for i in range(5)]
    yield model, inputs, prepare_explorer(model, inputs, stages=["res2", "res5"],
                                          classnames=names, fps=30, sampling_rate=2)
    torch.set_num_threads(threads)


def test_state_holds_frames_maps_and_a_shared_timeline(setup):
    model, inputs, state = setup
    assert state.num_steps == 16 and np.allclose(state.times[:2], [0, 2 / 30])
    assert state.frames["slow"].shape == (4, 64, 64, 3) and state.frames["fast"].shape[0] == 16
    assert state.positions["slow"].tolist() == [0, 5, 10, 15]
    assert state.activations["fast"]["res2"].shape == (16, 16, 16, 16)  # (C, T, H, W)
    assert np.array_equal(state.cams["fast"], grad_cam(model, inputs)["fast"][0, 0].numpy())
    assert len(state.predictions) == 5 and state.predictions[0][0].startswith("class")
    assert [frame_at(state, "slow", t) for t in (0, 2, 3, 8, 12, 15)] == [0, 0, 1, 2, 2, 3]


def test_gradcam_picture_is_the_overlay_of_the_frame_shown(setup):
    _, inputs, state = setup
    for pathway, t, frame in (("fast", 6, 6), ("slow", 6, 1), ("slow", 14, 3)):
        image = explorer_frame(state, t, pathway, "res5", 0, show_gradcam=True)
        pixels = to_frames(inputs[0 if pathway == "slow" else 1][0])[frame]
        expected = overlay(pixels[None], state.cams[pathway][frame][None])[0]
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert np.array_equal(image, expected)


def test_channel_picture_is_that_channel_scaled_over_the_clip(setup):
    _, inputs, state = setup
    act = state.activations["fast"]["res2"][3]  # channel 3: (T, 16, 16)
    scaled = (act - act.min()) / (act.max() - act.min())
    heat = F.interpolate(scaled[9][None, None], size=(64, 64), mode="bilinear")[0, 0]
    expected = overlay(state.frames["fast"][9][None], heat.numpy()[None])[0]
    assert np.array_equal(explorer_frame(state, 9, "fast", "res2", 3, False), expected)
    mean = explorer_frame(state, 9, "fast", "res2", MEAN_OF_CHANNELS, False)
    assert not np.array_equal(mean, expected)
    other_stage = explorer_frame(state, 9, "slow", "res5", 7, False)
    assert other_stage.shape == (64, 64, 3)


def test_widget_constructs_without_a_display_and_redraws_from_its_controls(setup):
    model, inputs, _ = setup
    box = explore(model, inputs, stages=["res2", "res5"])
    controls, state = box.controls, box.explorer_state
    assert set(controls) == {"play", "t", "pathway", "stage", "channel", "gradcam"}
    assert controls["play"].max == controls["t"].max == 15

    def shown() -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(box.image.value)).convert("RGB"))

    first = shown()
    assert first.shape == (256, 256, 3)  # 64 px enlarged 4x
    assert np.array_equal(first[::4, ::4], explorer_frame(state, 0, "fast", "res5", -1, True))
    controls["gradcam"].value = False
    controls["pathway"].value = "slow"
    controls["stage"].value = "res2"
    assert controls["channel"].max == 127  # the Slow res2 has 128 channels
    controls["channel"].value = 5
    controls["t"].value = 11
    assert box.image.value == png_bytes(explorer_frame(state, 11, "slow", "res2", 5, False))
    assert "slow frame 2" in box.children[-1].value
