"""The synthetic multi-label set: several shapes per clip, each with its own motion, its label the
set of (shape, direction) present; files that `MultiLabelDataset` reads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from slowfast_edu.data import KineticsDataset, MultiLabelDataset, read_multilabel_list
from slowfast_edu.data import synthetic as syn
from slowfast_edu.data import synthetic_multilabel as ml

SMALL = dict(num_frames=8, sampling_rate=1, alpha=4, crop_size=32, short_side=(32, 32),
             test_short_side=32, test_crop_size=32, flip=False)


def test_clips_are_deterministic_and_show_their_labels():
    counts = []
    for seed in range(30):
        frames, labels = ml.generate_clip(seed, num_frames=8, size=64)
        again, same = ml.generate_clip(seed, num_frames=8, size=64)
        assert np.array_equal(frames, again) and labels == same
        assert frames.shape == (8, 64, 64, 3) and frames.dtype == np.uint8
        plans = ml.plan_objects(seed, 8, 64)
        shapes = [syn.class_parts(c)[0] for c in labels]
        assert len(set(shapes)) == len(shapes) == len(plans)  # each shape at most once
        for plan, class_id in zip(sorted(plans, key=lambda p: ml.labels_of([p])), labels):
            appearance, motion = syn.class_parts(class_id)
            assert plan.shape == syn.APPEARANCES[appearance][1]
            assert plan.direction == syn.MOTIONS[motion]
            assert plan.radius < syn.RADIUS[1] * ml.SCALE * 1.0001 and not plan.distractor
            # the shape's colour is in the frames where it is drawn
            near = np.abs(frames.astype(float) - plan.colour).max(-1) < 30
            assert near.any()
        counts.append(len(labels))
    assert set(counts) == set(ml.OBJECTS)


def test_objects_glide_their_own_way_between_jumps():
    for seed in range(20):
        for plan in ml.plan_objects(seed, 16, 64):
            same_segment = plan.segment[1:] == plan.segment[:-1]
            steps = np.diff(plan.x)[same_segment]
            assert np.all(np.sign(steps) == plan.direction)


def test_written_set_reads_as_multi_hot_views(tmp_path):
    counts = ml.write_dataset(tmp_path, videos_train=5, videos_val=2, num_frames=8, size=32,
                              progress=False)
    assert counts == {"train": 5, "val": 2}
    assert json.loads((tmp_path / "classnames.json").read_text()) == syn.CLASSES
    rows = read_multilabel_list(tmp_path / "train.csv")
    assert [p.name for p, _ in rows] == [f"{i:04d}.mp4" for i in range(5)]
    for i, (_, ids) in enumerate(rows):
        assert list(ids) == ml.generate_clip(ml.clip_seed(0, "train", i), 8, 32)[1]
    train = MultiLabelDataset(tmp_path / "train.csv", "train", log_dir=tmp_path / "log", **SMALL)
    assert train.classnames == syn.CLASSES and len(train) == 5
    (slow, fast), target, video = train[3]
    assert slow.shape == (3, 2, 32, 32) and fast.shape == (3, 8, 32, 32)
    assert target.shape == (6,) and target.nonzero().flatten().tolist() == list(rows[3][1])
    assert video == 3
    test = MultiLabelDataset(tmp_path / "val.csv", "test", num_clips=2, num_crops=1, cache=True,
                             log_dir=tmp_path / "log", **SMALL)
    assert len(test) == 4 and test[1][2] == 0 and test[2][2] == 1
    batch = torch.utils.data.default_collate([test[i] for i in range(4)])
    assert batch[1].shape == (4, 6) and batch[1].dtype == torch.float32
    # the single-label dataset it stands in for reads the list as it reads its own
    (tmp_path / "single.csv").write_text("train/0000.mp4 1\n")
    single = KineticsDataset(tmp_path / "single.csv", "train", log_dir=tmp_path / "log", **SMALL)
    assert set(vars(single)) == set(vars(train)) and single.videos[0][1] == 1


def test_bad_lists_say_what_is_wrong(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "list.csv").write_text("a.mp4 0,x\n")
    with pytest.raises(ValueError, match=r"list.csv, line 1: expected `path labels`"):
        read_multilabel_list(tmp_path / "list.csv")
    (tmp_path / "list.csv").write_text("a.mp4 -\nb.mp4 2,0\n")
    assert [ids for _, ids in read_multilabel_list(tmp_path / "list.csv")] == [(), (0, 2)]
    with pytest.raises(ValueError, match="class id 2 is not among the 2 class names"):
        MultiLabelDataset(tmp_path / "list.csv", classnames=["a", "b"], log_dir=tmp_path)
    ds = MultiLabelDataset(tmp_path / "list.csv", log_dir=tmp_path / "log", **SMALL)
    assert ds.missing == [str(tmp_path / "b.mp4")] and ds.classnames == ["0", "1", "2"]
    with pytest.raises(FileNotFoundError, match="no video list"):
        read_multilabel_list(tmp_path / "nope.csv")
