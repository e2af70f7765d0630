"""The synthetic detection set: its design (what a Slow pathway can see), and its AVA files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from slowfast_edu.data import AvaDataset, denormalize, frame_map
from slowfast_edu.data.ava import read_annotations, read_label_map, read_proposals
from slowfast_edu.data.synthetic_detection import (ACTIONS, KEY_SEGMENT, annotations,
                                                   key_frame_boxes, plan_video, render_video,
                                                   timeline, write_dataset)

SLOW_OFFSETS = (-8, -3, 2, 7)  # the teaching detectors' Slow frames around the key frame:
# pack_pathways picks linspace(0, 15, 4) = 0, 5, 10, 15 of the 16 frames, the key frame is 8


def test_no_slow_frame_shares_a_segment_with_the_key_frame_or_another_slow_frame():
    for seed in range(50):
        segment = timeline(np.random.default_rng(seed), 120, [30, 60, 90])
        assert np.bincount(segment).max() <= 4  # segments of at most 4 frames
        for k in (30, 60, 90):
            key = segment[k + KEY_SEGMENT[0]:k + KEY_SEGMENT[1] + 1]
            assert (key == segment[k]).all() and len(key) == 4
            seen = [segment[k + o] for o in SLOW_OFFSETS]
            assert segment[k] not in seen and len(set(seen)) == 4


def test_the_boxes_do_not_depend_on_the_actions():
    for seed in range(10):
        plan = plan_video(seed, 3)
        for swap in ({1: 2, 2: 1}, {1: 3, 3: 1}, {2: 3, 3: 2}):  # motion twins
            twin = plan_video(seed, 3, swap=swap)
            assert [swap.get(o.action, o.action) for o in plan.objects] == [
                o.action for o in twin.objects]
            assert key_frame_boxes(twin) == key_frame_boxes(plan)
    # and the actions differ only in how the objects move within a segment
    plan, twin = plan_video(1, 2), plan_video(1, 2, swap={1: 2, 2: 1, 3: 3})
    for o, t in zip(plan.objects, twin.objects):
        assert np.allclose(o.x[30], t.x[30]) and np.allclose(o.y, t.y)
        if o.action == 3:
            assert np.allclose(o.x, t.x)  # still: the same in every frame
        else:  # a step the other way: x(29) - x(30) flips sign
            assert np.isclose(o.x[29] - o.x[30], -(t.x[29] - t.x[30]))
            assert 3 <= abs(o.x[31] - o.x[30]) <= 4  # 3 to 4 pixels per frame at 64 x 64


def test_several_objects_with_their_own_actions_and_tight_boxes():
    counts, actions = [], []
    for seed in range(30):
        plan = plan_video(seed, 2)
        counts.append(len(plan.objects))
        actions += [o.action for o in plan.objects]
        rows = annotations(plan, "v")
        assert len(rows) == 2 * len(plan.objects) and {r.timestamp for r in rows} == {1, 2}
    assert set(counts) == {2, 3} and set(actions) == set(ACTIONS)
    plan = plan_video(3, 1)
    frames = render_video(plan)  # (T, H, W, 3)
    assert frames.shape == (60, 64, 64, 3) and frames.dtype == np.uint8
    for _, i, (x1, y1, x2, y2) in key_frame_boxes(plan):
        box = frames[30, round(y1 * 64):round(y2 * 64), round(x1 * 64):round(x2 * 64)]
        assert box.mean() > frames[30].mean() + 20  # the bright object fills its box
    boxes = [b for _, _, b in key_frame_boxes(plan)]
    assert all(0 < b[2] - b[0] < 0.4 for b in boxes)


def test_the_set_is_written_in_avas_formats_and_read_by_the_ava_dataset(tmp_path):
    counts = write_dataset(tmp_path, videos_train=2, videos_val=1, num_key_frames=2,
                           progress=False)
    assert counts == {"train": 4, "val": 2}
    assert read_label_map(tmp_path / "label_map.pbtxt") == ACTIONS
    truth = read_annotations(tmp_path / "val.csv")
    assert {(r.video_id, r.timestamp) for r in truth} == {("val_0000", 1), ("val_0000", 2)}
    proposals = read_proposals(tmp_path / "val_proposals.csv")
    assert len([p for p in proposals if p.score >= 0.8]) == len(truth)  # true boxes score >= 0.85
    dataset = AvaDataset(tmp_path / "val.csv", tmp_path / "videos", mode="test", num_classes=3,
                         num_frames=16, sampling_rate=1, alpha=4, test_short_side=64,
                         proposals=tmp_path / "val_proposals.csv", log_dir=tmp_path / "log")
    (slow, fast), boxes, labels, _ = dataset[0]
    assert fast.shape == (3, 16, 64, 64) and slow.shape == (3, 4, 64, 64)
    key = dataset.key_frames[0]
    frames = render_video(plan_video(_seed(tmp_path, key.video_id), 2))
    shown = denormalize(fast).numpy().astype(int)  # (16, H, W, 3): frames 22 ... 37
    assert np.abs(shown[8] - frames[30]).mean() < 4  # the key frame in the middle (H.264 noise)
    assert np.abs(shown[0] - frames[22]).mean() < 4
    assert len(boxes) == len([t for t in truth if t.timestamp == 1]) and labels.sum() == 0
    # the true boxes as detections with their true actions: frame mAP 1 on the proposals' boxes
    detections = [t._replace(score=1.0) for t in truth]
    assert frame_map(detections, truth)["map"] == pytest.approx(1.0)
    assert torch.all(boxes >= 0) and torch.all(boxes <= 64)


def _seed(out, video_id):
    from slowfast_edu.data.synthetic_detection import video_seed

    split, index = video_id.split("_")
    return video_seed(0, split, int(index))
