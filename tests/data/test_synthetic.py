"""The synthetic motion dataset: deterministic frames, motion only a dense sampler can see, and
files that `KineticsDataset` reads unchanged."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from slowfast_edu.data import synthetic as syn
from slowfast_edu.data.kinetics import KineticsDataset, read_video_list

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
SLOW_FRAMES = np.linspace(0, 15, 4).astype(int)  # what pack_pathways keeps of 16 frames: 0 5 10 15
# how data_samples/ was made (its README says so too)
SAMPLE_PARAMS = {"videos_per_class_train": 2, "videos_per_class_val": 3, "num_frames": 64,
                 "size": 64, "seed": 0}


def decode(path: Path) -> np.ndarray:
    """Every frame of `path` as (T, H, W, 3) uint8, decoded with plain PyAV."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def object_x(frames: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """(T,) x centre of the pixels near `colour`, as a circular mean (the frame is a torus)."""
    mask = np.abs(frames.astype(float) - colour).max(-1) < 40  # (T, H, W)
    angle = 2 * np.pi * (np.arange(frames.shape[2]) + 0.5) / frames.shape[2]
    s = (mask * np.sin(angle)).sum((1, 2))
    c = (mask * np.cos(angle)).sum((1, 2))
    return np.arctan2(s, c) % (2 * np.pi) * frames.shape[2] / (2 * np.pi) - 0.5


def wrapped(d: np.ndarray, size: int) -> np.ndarray:
    """Displacements on a torus of `size` pixels, in [-size/2, size/2)."""
    return (d + size / 2) % size - size / 2


def test_classes_are_appearance_times_motion() -> None:
    assert len(syn.CLASSES) == len(syn.APPEARANCES) * len(syn.MOTIONS)
    assert len(set(syn.CLASSES)) == len(syn.CLASSES)
    assert syn.CLASSES[:2] == ["red_circle_moving_left", "red_circle_moving_right"]
    for class_id, name in enumerate(syn.CLASSES):
        appearance, motion = syn.class_parts(class_id)
        assert name == f"{appearance}_{motion}"
        twins = syn.motion_twins(class_id)
        assert class_id in twins and len(twins) == len(syn.MOTIONS)
        assert {syn.class_parts(t)[0] for t in twins} == {appearance}
        assert {syn.class_parts(t)[1] for t in twins} == set(syn.MOTIONS)


@pytest.mark.parametrize("num_frames, size", [(64, 64), (16, 32), (20, 48)])
def test_clip_shape_and_determinism(num_frames: int, size: int) -> None:
    for class_id in range(len(syn.CLASSES)):
        clip = syn.generate_clip(class_id, seed=3, num_frames=num_frames, size=size)
        assert clip.shape == (num_frames, size, size, 3) and clip.dtype == np.uint8
        assert np.array_equal(clip, syn.generate_clip(class_id, 3, num_frames, size))
        assert not np.array_equal(clip, syn.generate_clip(class_id, 4, num_frames, size))
        assert clip.std() > 10  # a picture, not a flat frame


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="class_id"):
        syn.generate_clip(len(syn.CLASSES), 0)
    with pytest.raises(ValueError, match="even"):
        syn.generate_clip(0, 0, size=63)
    with pytest.raises(ValueError, match="at least 32"):
        syn.generate_clip(0, 0, size=16)
    with pytest.raises(ValueError, match="num_frames"):
        syn.write_dataset("/nonexistent/never/written", num_frames=0)


def test_the_shape_has_its_class_colour() -> None:
    for class_id in range(len(syn.CLASSES)):
        plan = syn.plan_clip(class_id, seed=5, num_frames=8)
        nominal = syn.APPEARANCES[syn.class_parts(class_id)[0]][0]
        assert np.abs(plan.colour - nominal).max() <= 20
        frames = syn.render_clip(plan)
        centre = frames[np.arange(8), np.floor(plan.y).astype(int) % 64,
                        np.floor(plan.x).astype(int) % 64]  # (T, 3)
        assert np.abs(centre - plan.colour).max() < 4 * syn.NOISE + 2


def test_without_the_distractor_only_the_ring_is_gone() -> None:
    """`replace(plan, distractor=False)`: the same clip with one moving object (the Grad-CAM
    check of the default model uses it)."""
    plan = syn.plan_clip(3, seed=5, num_frames=8)
    assert plan.distractor is syn.DISTRACTOR is True
    with_ring = syn.render_clip(plan).astype(int)
    without = syn.render_clip(dataclasses.replace(plan, distractor=False)).astype(int)
    ring = syn._coverage(64, "ring", plan.ring_x, plan.ring_y, np.zeros(8), plan.ring_radius) > 0
    shape = syn._coverage(64, plan.shape, plan.x, plan.y, plan.angle, plan.radius) > 0
    assert np.array_equal(with_ring[~ring], without[~ring])
    assert np.abs(with_ring - without)[ring & ~shape].mean() > 50  # grey 200 on a dark background


def test_one_moving_object_glides_through_every_frame_without_the_ring() -> None:
    for class_id in range(len(syn.CLASSES)):
        plan = syn.plan_clip(class_id, seed=5, num_frames=24)
        one = syn.one_moving_object(plan)
        assert not one.distractor and set(one.segment) == {0}
        frames = syn.render_clip(one)
        x = object_x(frames, plan.colour)  # (T,)
        assert np.abs(wrapped(np.diff(x), 64) - plan.direction * plan.speed).max() < 1.0
        assert np.array_equal(syn.object_mask(one)[0], syn.object_mask(plan)[0])  # same start
        assert np.array_equal(frames[0], syn.render_clip(dataclasses.replace(plan, distractor=False))[0])


def test_motion_is_steady_within_a_segment_and_random_across_segments() -> None:
    """Measured on the drawn pixels: frame to frame the shape steps by +-speed within a segment;
    frames MAX_SEGMENT apart show displacements uniform on the torus, whatever the direction."""
    size = 64
    for class_id in range(len(syn.CLASSES)):
        errors, across = [], []
        for seed in range(30):
            plan = syn.plan_clip(class_id, seed, num_frames=24, size=size)
            x = object_x(syn.render_clip(plan), plan.colour)  # (T,)
            same = plan.segment[1:] == plan.segment[:-1]
            errors.append(wrapped(np.diff(x), size)[same] - plan.direction * plan.speed)
            across.append(wrapped(x[syn.MAX_SEGMENT:] - x[:-syn.MAX_SEGMENT], size))
        # to within a pixel (the centroid of an anti-aliased, noisy shape), at 3 to 4 pixels a step
        assert np.abs(np.concatenate(errors)).max() < 1.0
        d = np.concatenate(across)  # uniform on [-32, 32): mean 0, std 64 / sqrt(12) = 18.5
        # within 4 standard errors; frames within a segment share a placement, so count one
        # independent sample per MAX_SEGMENT frames
        sigma = size / 12**0.5
        error = 4 * sigma / (len(d) / syn.MAX_SEGMENT) ** 0.5
        assert abs(d.mean()) < error and abs(d.std() - sigma) < error, syn.CLASSES[class_id]


def test_segments_never_reach_across_a_slow_frame_gap() -> None:
    for seed in range(50):
        segment = syn.plan_clip(seed % len(syn.CLASSES), seed).segment
        assert np.all(segment[syn.MAX_SEGMENT:] != segment[:-syn.MAX_SEGMENT])
        lengths = np.bincount(segment)
        assert np.all(np.diff(segment) >= 0) and set(lengths[1:-1]) <= set(syn.SEGMENTS)
        assert lengths.max() <= syn.MAX_SEGMENT


@pytest.mark.parametrize("start", [0, 7, 48])
def test_a_motion_twin_shows_the_same_slow_frames(start: int) -> None:
    """For any clip of one class there is an equally likely clip of each motion twin (segments
    placed elsewhere on the torus, where every placement is equally likely) whose Slow frames are
    the same pixels, while its Fast frames are different: only the Fast pathway can tell them apart.
    """
    slow = start + SLOW_FRAMES
    for class_id in range(len(syn.CLASSES)):
        plan = syn.plan_clip(class_id, seed=11)
        frames = syn.render_clip(plan)
        for twin in syn.motion_twins(class_id):
            other = syn.plan_clip(twin, seed=11)  # same draws: colour, size, background, noise
            x = other.x.copy()
            for t in slow:  # slide the twin's segment so that it passes where `plan` is at t
                in_segment = other.segment == other.segment[t]
                x[in_segment] += plan.x[t] - other.x[t]
            twin_frames = syn.render_clip(dataclasses.replace(other, x=x))
            assert np.array_equal(twin_frames[slow], frames[slow])
            if twin != class_id:
                assert not np.array_equal(twin_frames[start:start + 16], frames[start:start + 16])


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic")
    counts = syn.write_dataset(out, videos_per_class_train=1, videos_per_class_val=1,
                               num_frames=16, size=32, seed=7, progress=False)
    return out, counts


def test_write_dataset_layout_and_csvs(small_set: tuple[Path, dict]) -> None:
    out, counts = small_set
    k = len(syn.CLASSES)
    assert counts == {"train": k, "val": k}
    assert json.loads((out / "classnames.json").read_text()) == syn.CLASSES
    for split in ("train", "val"):
        lines = (out / f"{split}.csv").read_text().splitlines()
        assert lines == [f"{split}/{name}_0000.mp4 {i}" for i, name in enumerate(syn.CLASSES)]
        videos, _ = read_video_list(out / f"{split}.csv")
        assert [label for _, label in videos] == list(range(k))
        assert all(path.is_file() for path, _ in videos)
    readme = (out / "README.md").read_text()
    assert "videos_per_class_train=1" in readme and "seed=7" in readme and "size=32" in readme


def test_written_videos_decode_to_the_generated_frames(small_set: tuple[Path, dict]) -> None:
    out, _ = small_set
    for class_id, name in enumerate(syn.CLASSES):
        path = out / "val" / f"{name}_0000.mp4"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264" and stream.average_rate == syn.FPS
        frames = decode(path).astype(float)
        expected = syn.generate_clip(class_id, syn.clip_seed(7, "val", class_id, 0), 16, 32)
        assert frames.shape == expected.shape
        assert np.abs(frames - expected).mean() < 6  # lossy (noise texture at 32 px), but close
        # the shape's colour survives the 4:2:0 chroma subsampling
        colour = syn.plan_clip(class_id, syn.clip_seed(7, "val", class_id, 0), 16, 32).colour
        inside = np.abs(expected - colour).max(-1) < 3 * syn.NOISE  # (T, H, W)
        assert inside.sum() > 16 * 20
        # (chroma is stored at half resolution: on a 32-px frame the small shape's edges bleed)
        assert np.abs(frames[inside].mean(0) - colour).max() < 20


def test_kinetics_dataset_reads_the_set_unchanged(small_set: tuple[Path, dict]) -> None:
    out, _ = small_set
    dataset = KineticsDataset(out / "val.csv", mode="test", classnames=out / "classnames.json",
                              num_frames=16, sampling_rate=1, alpha=4, num_clips=1, num_crops=1,
                              test_short_side=32, test_crop_size=32)
    assert dataset.classnames == syn.CLASSES and len(dataset) == len(syn.CLASSES)
    (slow, fast), label, video = dataset[len(syn.CLASSES) - 1]
    assert slow.shape == (3, 4, 32, 32) and fast.shape == (3, 16, 32, 32)
    assert label == len(syn.CLASSES) - 1 and video == len(syn.CLASSES) - 1
    assert torch.isfinite(fast).all()


def test_data_samples_are_the_documented_generator_output() -> None:
    readme = (SAMPLES / "README.md").read_text()
    assert "write_dataset(" in readme
    assert json.loads((SAMPLES / "classnames.json").read_text()) == syn.CLASSES
    params = SAMPLE_PARAMS
    for key, value in params.items():
        assert f"{key}={value}" in readme, key
    for split in ("train", "val"):
        videos, _ = read_video_list(SAMPLES / f"{split}.csv")
        per_class = params[f"videos_per_class_{split}"]
        assert len(videos) == per_class * len(syn.CLASSES)
        for n, (path, label) in enumerate(videos):
            index = n % per_class
            assert path.name == f"{syn.CLASSES[label]}_{index:04d}.mp4"
            if index:  # decoding one video per class is enough
                continue
            seed = syn.clip_seed(params["seed"], split, label, index)
            expected = syn.generate_clip(label, seed, params["num_frames"], params["size"])
            assert np.abs(decode(path).astype(float) - expected).mean() < 5, path
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total <= 5 * 2**20

