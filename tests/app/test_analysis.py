"""The app's plain-Python part: models offered, bounded reading, top-5, the domain check,
Grad-CAM, pictures."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import av
import numpy as np
import pytest
import torch

from slowfast_edu import build_model
from slowfast_edu.app.analysis import MAX_SECONDS, analyse, explain_top
from slowfast_edu.app.menu import (DEFAULT_LABEL, KINETICS_LABEL, AppModel, available_models,
                                   missing_weights_note)
from slowfast_edu.app.pictures import (CELL, GAP, LABEL_WIDTH, TIME_HEIGHT, shown_columns,
                                       timeline_grid)
from slowfast_edu.data import VideoDecodeError, VideoReader, sample_indices
from slowfast_edu.models import PRESETS
from slowfast_edu.views import copy_window, probe, read_views, window_indices
from slowfast_edu.explain import to_frames
from slowfast_edu.explain.render import slow_positions

from ..data.conftest import read_index
from .conftest import SAMPLE

CLASSES = json.loads((SAMPLE.parents[1] / "classnames.json").read_text())


@pytest.fixture(scope="module")
def default(one_thread) -> AppModel:
    return available_models()[DEFAULT_LABEL]


def read_centre(path, loaded, max_seconds=MAX_SECONDS):
    """The app's reading of an upload."""
    return read_views(path, loaded.geometry, max_seconds=max_seconds, arch=loaded.arch)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOWFAST_EDU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # nor torch hub's cache
    monkeypatch.delenv("SLOWFAST_EDU_CLASSNAMES_URL", raising=False)
    return tmp_path / "cache"


# ------------------------------------------------------------------------- the model menu

def test_offline_menu_is_the_default_model_only(empty_cache):
    models = available_models()
    assert list(models) == [DEFAULT_LABEL] and not models[DEFAULT_LABEL].loaded
    assert "`slowfast-edu weights download slowfast_8x8_r50`" in missing_weights_note()
    with pytest.raises(FileNotFoundError, match="never downloads.*SLOWFAST_8x8_R50.pyth.*"
                                                "slowfast-edu weights download slowfast_8x8_r50"):
        available_models(model="slowfast_8x8_r50")
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        available_models(model="resnet50")


@pytest.fixture
def kinetics_cache(empty_cache, monkeypatch):
    """A cache holding SLOWFAST_8x8_R50.pyth (random weights, the zoo's layout) and 400 class
    names, and a zoo address where any download would fail; yields the model's weights."""
    from slowfast_edu.models import convert_state_dict

    weights, names = empty_cache / "SLOWFAST_8x8_R50.pyth", empty_cache / "kinetics_classnames.json"
    empty_cache.mkdir()
    names.write_text(json.dumps({f"class {i}": i for i in range(400)}))
    assert list(available_models()) == [DEFAULT_LABEL]  # class names alone are not enough
    model = build_model("slowfast_8x8_r50")
    torch.save({"model_state": convert_state_dict(model.state_dict(), "slowfast_edu",
                                                  "pytorchvideo")}, weights)
    monkeypatch.setenv("SLOWFAST_EDU_ZOO_URL", "http://127.0.0.1:9")
    return model


def test_kinetics_is_offered_when_both_files_are_cached_and_loads_without_network(
        kinetics_cache):
    models = available_models()
    assert list(models) == [DEFAULT_LABEL, KINETICS_LABEL]
    assert not models[KINETICS_LABEL].loaded  # loaded on its first request, not at start-up
    assert missing_weights_note() is None
    loaded = models[KINETICS_LABEL].loader()
    assert loaded.classnames[:2] == ["class 0", "class 1"] and len(loaded.classnames) == 400
    # the preset's published view: 32 frames at stride 2, short side 256, crop 256
    assert loaded.geometry == PRESETS["slowfast_8x8_r50"].geometry
    g = loaded.geometry
    assert (g.num_frames, g.sampling_rate, g.test_short_side, g.test_crop_size) == (32, 2, 256, 256)
    assert loaded.domain is None  # the Kinetics model's check is off
    assert torch.equal(loaded.network.head.proj.weight, kinetics_cache.head.proj.weight)
    assert list(available_models(model="slowfast_8x8_r50"))[0] == KINETICS_LABEL


@pytest.mark.skipif(os.environ.get("SLOWFAST_EDU_FULL_TESTS") != "1",
                    reason="R50 on a CPU takes ~30 s; SLOWFAST_EDU_FULL_TESTS=1 runs it")
def test_the_kinetics_model_classifies_and_explains_offline(kinetics_cache, tmp_path):
    entry = available_models()[KINETICS_LABEL]
    result = analyse(entry, SAMPLE, tmp_path)
    assert len(result.top5) == 5 and set(result.top5) <= {f"class {i}" for i in range(400)}
    assert result.in_domain is None and result.notice is None
    assert {k: tuple(v.shape) for k, v in result.cams.items()} == {
        "slow": (1, 1, 8, 256, 256), "fast": (1, 1, 32, 256, 256)}
    columns = len(shown_columns({"slow": 8, "fast": 32}))  # 19: readable, not 32
    assert result.frames_image.shape[1] == LABEL_WIDTH + columns * (CELL + GAP)


def test_a_checkpoint_comes_first_and_is_loaded_at_start_up(tmp_path, empty_cache):
    model = build_model("slow_tiny", num_classes=3)
    checkpoint = tmp_path / "mine.pt"
    torch.save({"model_state": model.state_dict(), "classnames": ["a", "b", "c"],
                "config": {"model": {"name": "slow_tiny", "overrides": {}}}}, checkpoint)
    models = available_models(str(checkpoint))
    assert list(models) == ["mine.pt (your checkpoint)", DEFAULT_LABEL]
    entry = models["mine.pt (your checkpoint)"]
    assert entry.loaded and entry.get().classnames == ["a", "b", "c"]
    result = analyse(entry, SAMPLE, tmp_path)  # a Slow-only model: one pathway, 4 frames
    assert len(result.top5) == 3 and list(result.cams) == ["slow"]
    assert result.frames_image.shape == (CELL + GAP + TIME_HEIGHT, LABEL_WIDTH + 4 * (CELL + GAP),
                                         3)
    np.testing.assert_array_equal(result.times, result.clip.times[0][[0, 5, 10, 15]])
    assert result.in_domain is None  # a checkpoint of the trainer carries no domain check
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="broken.pt"):
        available_models(str(tmp_path / "broken.pt"))


# ------------------------------------------------------------------- reading a bounded window

def test_one_window_is_the_centre_view_and_ten_are_pyslowfasts():
    geometry = dataclasses.replace(PRESETS["slowfast_tiny"].geometry, tau=8)  # 16 at stride 2
    for frames, fps in ((300, 30.0), (40, 25.0), (7, 30.0), (1, 30.0), (251, 29.97)):
        expected = sample_indices(frames, fps, 16, 2, 30.0, clip_index=1, num_clips=2)
        assert torch.equal(window_indices(frames, fps, geometry)[0], expected)
        assert torch.equal(window_indices(frames, fps, geometry, centre=frames / 2)[0], expected)
        ten = window_indices(frames, fps, geometry, clips=10)
        assert torch.equal(ten, torch.stack([sample_indices(frames, fps, 16, 2, 30.0, i, 10)
                                             for i in range(10)]))


def test_a_ten_minute_video_is_read_over_ten_seconds_at_its_centre(make_video, default, tmp_path):
    path = make_video("ten_minutes.mp4")
    assert probe(path) == pytest.approx(600, abs=0.05)
    piece = tmp_path / "window.mkv"
    first = copy_window(path, piece, 295.0, 305.0)
    assert first == pytest.approx(280.0)  # a keyframe every 20 s: from the one before 295 s ...
    with VideoReader(piece) as reader:  # ... to 305 s: 750 of the 18000 frames
        assert reader.num_frames == pytest.approx(25 * 30, abs=4)
        assert read_index(reader.get_frames([600])[0].numpy(), bands=5) == 9000
    clip = read_centre(path, default.get())
    assert clip.window == (295.0, 305.0) and clip.duration == pytest.approx(600, abs=0.05)
    fast = to_frames(clip.inputs[1][0])  # (16, 64, 64, 3): the frames the Fast pathway saw
    assert [read_index(f, bands=5) for f in fast] == list(range(8992, 9008))  # the centre, 300 s
    np.testing.assert_allclose(clip.times[0], np.arange(8992, 9008) / 30, atol=1e-6)


def test_a_long_video_cut_short_is_an_error_naming_it(make_video, default, tmp_path):
    data = make_video("ten_minutes.mp4").read_bytes()
    cut = tmp_path / "cut_short.mp4"
    cut.write_bytes(data[:len(data) * 4 // 10])  # the index says 600 s; the frames stop at ~240
    with pytest.raises(VideoDecodeError, match="cannot decode 'cut_short.mp4': .*truncated"):
        read_centre(cut, default.get())


def test_a_short_video_is_read_whole_at_its_centre(make_video, default):
    clip = read_centre(make_video("h264.mp4"), default.get())  # 120 frames at 25 fps
    assert clip.window is None and clip.fps == 25 and clip.duration == pytest.approx(4.8)
    expected = sample_indices(120, 25.0, 16, 1, 30.0, clip_index=1, num_clips=2)
    assert [read_index(f) for f in to_frames(clip.inputs[1][0])] == expected.tolist()


def test_oversized_frames_are_refused_with_a_reason(make_video, default, monkeypatch):
    import slowfast_edu.views as views

    monkeypatch.setattr(views, "MAX_PIXELS", 64 * 64)  # as if 96 x 64 were 8K
    with pytest.raises(VideoDecodeError, match="96x64 pixels are too large"):
        read_centre(make_video("h264.mp4"), default.get())


# -------------------------------------------------------------------- top-5 and Grad-CAM

def test_analyse_gives_top5_grad_cam_pictures_and_timings(default, tmp_path):
    result = analyse(default, SAMPLE, tmp_path)
    assert list(result.top5)[0] == "red_circle_moving_left" == result.target
    probs = list(result.top5.values())
    assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert set(result.top5) <= set(CLASSES)
    assert {k: tuple(v.shape) for k, v in result.cams.items()} == {
        "slow": (1, 1, 4, 64, 64), "fast": (1, 1, 16, 64, 64)}
    assert all(0 <= v.min() and v.max() <= 1 for v in result.cams.values())
    # one row per pathway, one 96-pixel column per Fast frame, time stamps below
    shape = (TIME_HEIGHT + 2 * (CELL + GAP), LABEL_WIDTH + 16 * (CELL + GAP), 3)
    assert result.frames_image.shape == result.cam_image.shape == shape
    np.testing.assert_array_equal(result.times, result.clip.times[0])
    assert not np.array_equal(result.frames_image, result.cam_image)
    assert result.in_domain is True and result.domain_score < 1 and result.notice is None
    with av.open(str(result.animation)) as video:
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
    assert len(frames) == 16 and frames[0].shape[:2] == (2 * CELL, 2 * 2 * CELL + 4)
    assert result.animation.parent == tmp_path
    assert {"read", "predict", "Grad-CAM", "pictures", "total"} <= set(result.seconds)
    assert result.seconds["total"] >= sum(v for k, v in result.seconds.items() if k != "total")
    assert "Processing time" in result.summary() and "read whole" in result.summary()


def test_the_inference_model_gives_the_plain_models_probabilities(default):
    loaded = default.get()
    model, fast = loaded.network, loaded.inference_network()
    clip = read_centre(SAMPLE, loaded)
    with torch.no_grad():
        plain = model(clip.inputs).softmax(-1)
        quick = fast(clip.inputs).softmax(-1)
    assert (plain - quick).abs().max() < 1e-5
    top5, cams, seconds, score = explain_top(default, clip)
    assert list(top5.values())[0] == pytest.approx(float(plain.max()), abs=1e-5)
    assert not model.training and not any(p.grad is not None for p in model.parameters())


def test_requests_take_turns_on_a_model(default):
    from concurrent.futures import ThreadPoolExecutor

    loaded = default.get()
    model, fast = loaded.network, loaded.inference_network()
    clip = read_centre(SAMPLE, loaded)
    running, most = [0], [0]

    def enter(*_):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.02)  # widen the window in which another request could come in

    def leave(*_):
        running[0] -= 1

    hooks = [h for net in (model, fast) for h in (net.register_forward_pre_hook(enter),
                                                 net.register_forward_hook(leave))]
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: explain_top(default, clip)[0], range(4)))
    finally:
        for hook in hooks:
            hook.remove()
    assert most[0] == 1 and all(a == answers[0] for a in answers)


def test_timeline_grid_puts_slow_frames_under_their_fast_frames():
    fast = np.stack([np.full((8, 8, 3), 10 * i, np.uint8) for i in range(8)])  # (8, 8, 8, 3)
    slow = fast[slow_positions(2, 8)]  # frames 0 and 7
    image = timeline_grid({"slow": slow, "fast": fast}, np.arange(8) / 30.0, cell=16)
    assert image.shape == (TIME_HEIGHT + 2 * (16 + GAP), LABEL_WIDTH + 8 * (16 + GAP), 3)

    def cell(row: int, column: int) -> np.ndarray:
        top, left = row * (16 + GAP), LABEL_WIDTH + column * (16 + GAP)
        return image[top:top + 16, left:left + 16]

    assert (cell(0, 0) == 0).all() and (cell(0, 7) == 70).all()  # Slow frames 0 and 7 ...
    assert (cell(0, 3) == 255).all()  # ... and blank between them
    assert all((cell(1, i) == 10 * i).all() for i in range(8))


def test_a_long_fast_clip_shows_every_slow_frame_and_a_readable_selection():
    assert list(shown_columns({"slow": 4, "fast": 16})) == list(range(16))  # all, up to 16
    shown = shown_columns({"slow": 8, "fast": 32})  # the Kinetics 8x8 models
    assert set(slow_positions(8, 32)) <= set(shown) and len(shown) == 19
    fast = np.stack([np.full((8, 8, 3), i, np.uint8) for i in range(32)])  # frame i is grey i
    slow = fast[slow_positions(8, 32)]
    image = timeline_grid({"slow": slow, "fast": fast}, np.arange(32) / 15.0, cell=16)
    assert image.shape == (TIME_HEIGHT + 2 * (16 + GAP), LABEL_WIDTH + 19 * (16 + GAP), 3)
    for column, step in enumerate(shown):  # each column shows Fast frame `step` ...
        left = LABEL_WIDTH + column * (16 + GAP)
        assert (image[16 + GAP:2 * 16 + GAP, left:left + 16] == step).all()
        top_row = image[:16, left:left + 16]  # ... and the Slow frame there, if there is one
        assert (top_row == step).all() if step in slow_positions(8, 32) else (top_row == 255).all()


def test_a_real_clip_gets_the_notice_and_a_synthetic_clip_does_not(default, shared_dir):
    real = analyse(default, shared_dir / "clips" / "arm_wrestling.mp4")
    assert real.in_domain is False and real.domain_score > 1
    assert "outside this model's world" in real.notice
    assert "slowfast-edu weights download slowfast_8x8_r50" in real.notice
    assert real.summary().startswith("**Not an answer**")
    synthetic = analyse(default, SAMPLE)
    assert synthetic.in_domain is True and synthetic.notice is None
    assert synthetic.summary().startswith("**Processing time")


def test_the_output_folder_is_pruned(tmp_path):
    from slowfast_edu.app.ui import OutputFolder

    folder = OutputFolder()
    old, new = folder.path / "old.mp4", folder.path / "new.mp4"
    old.write_bytes(b"x"), new.write_bytes(b"y")
    os.utime(old, (0, 0))
    folder.prune(keep=60)
    assert sorted(p.name for p in folder.path.iterdir()) == ["new.mp4"]


def test_examples_are_one_clip_per_class_when_data_samples_exists(tmp_path):
    from slowfast_edu.app.ui import example_clips

    clips = example_clips()
    assert len(clips) == len(CLASSES) and all(os.path.isfile(c) for c in clips)
    assert [os.path.basename(c).rsplit("_", 1)[0] for c in clips] == CLASSES
    assert example_clips(tmp_path / "absent") == []
