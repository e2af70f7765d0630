"""The AVA readers and `AvaDataset`, on files in AVA's formats that the tests write themselves."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from slowfast_edu.data import denormalize
from slowfast_edu.data.ava import (AvaBox, read_annotations, read_excluded, read_label_map,
                                   read_proposals, write_annotations, write_detections,
                                   write_excluded, write_label_map)
from slowfast_edu.data.ava_dataset import AvaDataset, ava_collate, jitter_boxes, key_frames

from .conftest import index_image, read_index, write_video

pytestmark = pytest.mark.usefixtures("one_torch_thread")

V21_LABEL_MAP = '''label {
  name: "bend/bow (at the waist)"
  label_id: 1
  label_type: PERSON_MOVEMENT
}
label {
  name: "crouch/kneel"
  label_id: 3
  label_type: PERSON_MOVEMENT
}
'''
V22_LABEL_MAP = ('item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\n'
                 'item {\n  name: "watch (a person)"\n  id: 80\n}\n')


def test_annotations_proposals_and_excluded_timestamps(tmp_path):
    path = tmp_path / "ava_val_v2.2.csv"
    path.write_text("-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1\n"
                    "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,12,1\n\n"
                    "1j20qq1JyX4,1798,0.5,0.0,1.0,1.0,3,7\n")
    rows = read_annotations(path)
    assert rows[0] == AvaBox("-5KQ66BBWC4", 902, (0.077, 0.151, 0.283, 0.811), 80, 1)
    assert [r.action_id for r in rows] == [80, 12, 3] and rows[2].timestamp == 1798
    write_annotations(tmp_path / "again.csv", rows)
    assert read_annotations(tmp_path / "again.csv") == rows
    assert (tmp_path / "again.csv").read_text().splitlines()[0] == (
        "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1")

    proposals = tmp_path / "ava_detection_val_boxes_and_labels.csv"
    proposals.write_text("v,0902,0.1,0.1,0.5,0.9,,0.95\nv,0902,0.5,0.1,0.9,0.9,,0.4\n"
                         "v,0903,0.1,0.1,0.5,0.9,0.81\n")  # the action column may be left out
    assert [(r.timestamp, r.score) for r in read_proposals(proposals, 0.8)] == [(902, 0.95),
                                                                               (903, 0.81)]
    assert len(read_proposals(proposals)) == 3
    detections = [AvaBox("v", 902, (0.1, 0.2, 0.3, 0.4), 5, score=0.25)]
    write_detections(tmp_path / "detections.csv", detections)
    assert read_proposals(tmp_path / "detections.csv") == detections

    write_excluded(tmp_path / "excluded.csv", {("v", 1000), ("a", 902)})
    assert (tmp_path / "excluded.csv").read_text() == "a,0902\nv,1000\n"
    assert read_excluded(tmp_path / "excluded.csv") == {("v", 1000), ("a", 902)}


@pytest.mark.parametrize("text, message", [
    ("v,0902,0.1,0.1,0.5,0.9,80\n", r"bad\.csv, line 1: expected 8 fields.*got 7"),
    ("v,0902,0.1,0.1,0.5,0.9,80,1\nv,09x2,0.1,0.1,0.5,0.9,80,1\n",
     r"bad\.csv, line 2: the timestamp must be an integer, got '09x2'"),
    ("\nv,0902,10,20,50,90,80,1\n", r"bad\.csv, line 2: the box 10.0,20.0,50.0,90.0 must be "
                                    r"normalised.*pixels\?"),
    ("v,0902,0.5,0.1,0.2,0.9,80,1\n", r"line 1: the box .* 0 <= x1 <= x2 <= 1"),
    ("v,0902,0.1,0.1,0.5,nan?,80,1\n", r"line 1: the box x1,y1,x2,y2 must be 4 numbers"),
    ("v,0902,0.1,0.1,0.5,0.9,walk,1\n", r"line 1: the action_id must be an integer, got 'walk'"),
])
def test_a_malformed_annotation_row_is_named_by_file_and_line(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        read_annotations(tmp_path / "bad.csv")


def test_malformed_proposals_excluded_rows_and_label_maps(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("v,0902,0.1,0.1,0.5,0.9,,high\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 1: the score must be a number"):
        read_proposals(bad)
    bad.write_text("v,0902,0.1\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 1: expected video_id,timestamp"):
        read_excluded(bad)
    bad.write_text('item {\n  name: "walk"\n  id: x\n}\n')
    with pytest.raises(ValueError, match=r"bad\.csv, line 1: a label needs a name and an integer"):
        read_label_map(bad)
    bad.write_text('item {\n  name "walk"\n')
    with pytest.raises(ValueError, match=r"bad\.csv, line 2: expected `key: value`"):
        read_label_map(bad)
    bad.write_text('item {\n  name: "walk"\n  id: 1\n')
    with pytest.raises(ValueError, match=r"line 1: the block is not closed"):
        read_label_map(bad)


def test_label_maps_of_both_versions(tmp_path):
    (tmp_path / "v21.pbtxt").write_text(V21_LABEL_MAP)
    (tmp_path / "v22.pbtxt").write_text(V22_LABEL_MAP)
    assert read_label_map(tmp_path / "v21.pbtxt") == {1: "bend/bow (at the waist)",
                                                      3: "crouch/kneel"}
    assert read_label_map(tmp_path / "v22.pbtxt") == {1: "bend/bow (at the waist)",
                                                      80: "watch (a person)"}
    write_label_map(tmp_path / "again.pbtxt", {1: "walk", 2: "run"})
    assert read_label_map(tmp_path / "again.pbtxt") == {1: "walk", 2: "run"}


# ---------------------------------------------------------------- the dataset

H, W = 32, 48  # the videos' frames: wider than high, as AVA's


@pytest.fixture
def ava_set(tmp_path):
    """Two videos of 64 index frames at 30 fps (key frames at 1 s = frame 30 and at 2 s, clamped
    at the end), one of them as a folder of PNG frames, a missing video and a broken one."""
    root = tmp_path / "videos"
    root.mkdir()
    write_video(root / "vid_a.mp4", 64, H, W, rate=30)
    frames = root / "vid_b"
    frames.mkdir()
    for i in range(64):
        Image.fromarray(index_image(i, H, W)).save(frames / f"vid_b_{i + 1:06d}.png")
    (root / "broken.mp4").write_bytes(b"not a video at all")
    rows = [AvaBox("vid_a", 1, (0.25, 0.5, 0.75, 1.0), 2, 0),
            AvaBox("vid_a", 1, (0.25, 0.5, 0.75, 1.0), 3, 0),  # two actions, one box
            AvaBox("vid_a", 1, (0.0, 0.0, 0.5, 0.5), 1, 1),
            AvaBox("vid_a", 2, (0.0, 0.0, 1.0, 1.0), 1, 0),  # excluded below
            AvaBox("vid_b", 1, (0.5, 0.0, 1.0, 0.5), 3, 0),
            AvaBox("gone", 1, (0.1, 0.1, 0.2, 0.2), 1, 0),
            AvaBox("broken", 1, (0.1, 0.1, 0.2, 0.2), 1, 0)]
    write_annotations(tmp_path / "train.csv", rows)
    write_excluded(tmp_path / "excluded.csv", {("vid_a", 2)})
    return tmp_path


def _dataset(ava_set, **kwargs):
    options = dict(video_root=ava_set / "videos", num_classes=3, num_frames=8, sampling_rate=2,
                   alpha=4, mode="test", test_short_side=64, excluded=ava_set / "excluded.csv",
                   log_dir=ava_set / "log")
    return AvaDataset(ava_set / "train.csv", **{**options, **kwargs})


def test_the_clip_around_each_key_frame_its_boxes_and_labels(ava_set):
    dataset = _dataset(ava_set)
    assert dataset.missing == ["gone"]
    assert [(k.video_id, k.timestamp) for k in dataset.key_frames] == [
        ("vid_a", 1), ("vid_b", 1), ("broken", 1)]  # ("vid_a", 2) is excluded
    (slow, fast), boxes, labels, index = dataset[0]
    assert fast.shape == (3, 8, 64, 96) and slow.shape == (3, 2, 64, 96)  # short side 32 -> 64
    shown = [read_index(frame.numpy()) for frame in denormalize(fast)]
    assert shown == [22, 24, 26, 28, 30, 32, 34, 36]  # key frame 30 (1 s at 30 fps) in the middle
    assert torch.allclose(boxes, torch.tensor([[24.0, 32, 72, 64], [0, 0, 48, 32]]))  # pixels
    assert labels.tolist() == [[0, 1, 1], [1, 0, 0]]  # column = action id - 1; multi-label
    assert index == 0
    # the frame folder reads the same way
    (_, fast_b), boxes_b, labels_b, _ = dataset[1]
    assert [read_index(f.numpy()) for f in denormalize(fast_b)] == shown
    assert boxes_b.tolist() == [[48.0, 0.0, 96.0, 32.0]] and labels_b.tolist() == [[0, 0, 1]]
    # decoded once into memory: the same items
    cached = _dataset(ava_set, cache=True)
    for i in (0, 1):
        assert all(torch.equal(a, b) for a, b in zip(cached[i][0], dataset[i][0]))
    assert isinstance(cached.cache["broken"], Exception)


def test_a_broken_video_is_skipped_and_logged_and_a_clip_is_clamped_at_the_end(ava_set):
    dataset = _dataset(ava_set)
    (_, fast), _, _, index = dataset[2]  # "broken": replaced by the next key frame
    assert index == 0
    skipped = dataset.pop_skipped()
    assert len(skipped) == 1 and "broken.mp4 at 1 s" in next(iter(skipped))
    assert "not a video" in next(iter(skipped.values()))
    late = _dataset(ava_set, excluded=set(), num_frames=16)  # key frame 2 s = frame 60 of 64
    (_, fast), _, _, _ = late[1]
    assert [read_index(f.numpy()) for f in denormalize(fast)][-4:] == [63, 63, 63, 63]
    shifted = _dataset(ava_set, video_start=900.0, max_retries=3)  # key frames before the start
    with pytest.raises(RuntimeError, match="3 key frames in a row failed to decode"):
        shifted[0]
    assert "is video_start right (900 for PySlowFast's 15-minute cuts)?" in "".join(
        shifted.pop_skipped().values())


def test_training_views_with_box_jitter_and_test_proposals(ava_set):
    torch.manual_seed(0)
    dataset = _dataset(ava_set, mode="train", crop_size=32, short_side=(32, 40), flip=False,
                       box_jitter=0.1)
    (slow, fast), boxes, labels, _ = dataset[0]
    assert fast.shape == (3, 8, 32, 32) and len(boxes) == 2
    assert (boxes >= 0).all() and (boxes <= 32).all() and (boxes[:, 2:] >= boxes[:, :2]).all()
    jittered = jitter_boxes(torch.tensor([[0.2, 0.2, 0.6, 0.4]]).repeat(1000, 1), 0.1)
    size = torch.tensor([0.4, 0.2, 0.4, 0.2])
    assert ((jittered - torch.tensor([0.2, 0.2, 0.6, 0.4])).abs() <= 0.1 * size + 1e-6).all()
    assert jittered.std(0).min() > 0.01

    proposals = [AvaBox("vid_a", 1, (0.1, 0.1, 0.4, 0.9), None, score=0.9),
                 AvaBox("vid_a", 1, (0.5, 0.1, 0.9, 0.9), None, score=0.5),  # below 0.8
                 AvaBox("vid_b", 1, (0.5, 0.1, 0.9, 0.9), None, score=0.85)]
    test = _dataset(ava_set, proposals=proposals)
    assert [(k.video_id, len(k.boxes)) for k in test.key_frames] == [("vid_a", 1), ("vid_b", 1)]
    _, boxes, labels, _ = test[0]
    assert torch.allclose(boxes, torch.tensor([[9.6, 6.4, 38.4, 57.6]]))
    assert labels.tolist() == [[0, 0, 0]]  # person boxes carry no actions


def test_collate_batches_any_number_of_boxes(ava_set):
    dataset = _dataset(ava_set)
    clips, boxes, labels, indices = ava_collate([dataset[0], dataset[1]])
    assert [c.shape for c in clips] == [(2, 3, 2, 64, 96), (2, 3, 8, 64, 96)]
    assert boxes.shape == (3, 5) and boxes[:, 0].tolist() == [0, 0, 1]
    assert labels.shape == (3, 3) and indices.tolist() == [0, 1]
    other = _dataset(ava_set, test_short_side=40)
    with pytest.raises(ValueError, match="one size.*batch_size=1 or a test_crop_size"):
        ava_collate([dataset[0], other[0]])


def test_key_frames_group_rows_by_box_and_check_action_ids():
    rows = [AvaBox("v", 1, (0, 0, 1, 1), 2), AvaBox("v", 1, (0, 0, 1, 1), 1),
            AvaBox("v", 1, (0, 0, 0.5, 1), None)]
    [key] = key_frames(rows, 2)
    assert key.labels.tolist() == [[1, 1], [0, 0]]
    with pytest.raises(ValueError, match=r"action 3 of v at 1 s is outside 1..2"):
        key_frames(rows + [AvaBox("v", 1, (0, 0, 1, 1), 3)], 2)
