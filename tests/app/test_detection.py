"""The app's detection mode without Gradio: typed boxes, the synthetic shapes found, the default
detector's answers on a clip of its world and on clips outside it, the key frame drawn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from slowfast_edu.app.detection import (EXAMPLE_SEED, MAX_BOXES, BoxError, detect, detector_entry,
                                        detector_inputs, draw_boxes, example_clip, find_objects,
                                        format_boxes, parse_boxes, suggest_boxes)
from slowfast_edu.data import VideoReader
from slowfast_edu.data.synthetic import write_video
from slowfast_edu.data.synthetic_detection import (ACTIONS, key_frame_boxes, plan_video,
                                                   render_video)
from slowfast_edu.models.default import DEFAULT_DETECTOR, load_exported


@pytest.fixture(scope="module")
def entry(one_thread):
    """The embedded default detector, loaded once."""
    entry = detector_entry()
    entry.get()
    return entry


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The app's example clip (2 s of the synthetic detection set) and its true boxes."""
    return example_clip(tmp_path_factory.mktemp("detection_example"))


# --- typed boxes ------------------------------------------------------------------------------

def test_typed_boxes_are_read_in_the_frames_pixels():
    boxes = parse_boxes("10,12,30,34\n  \n(40 8 58.5 26)\n1;2;3;4", (48, 64))
    assert boxes.tolist() == [[10, 12, 30, 34], [40, 8, 58.5, 26], [1, 2, 3, 4]]
    assert parse_boxes("", (48, 64)) is None and parse_boxes(None, (48, 64)) is None
    assert parse_boxes(" \n\n", (48, 64)) is None  # blank lines: the whole frame
    assert parse_boxes(format_boxes(boxes), (48, 64)).tolist() == boxes.tolist()
    assert parse_boxes("0,0,64,48", (48, 64)).tolist() == [[0, 0, 64, 48]]  # the whole frame


@pytest.mark.parametrize("text, words", [
    ("10,12,30", "line 1 ('10,12,30'): 3 numbers; a box is 4"),
    ("1,2,3,4\n1,2,3,4,5", "line 2 ('1,2,3,4,5'): 5 numbers"),
    ("a,b,c,d", "not numbers"),
    ("1,2,nan,4", "finite"),
    ("30,12,10,34", "x2 must be greater than x1"),
    ("10,12,10,34", "x2 must be greater than x1"),
    ("10,34,30,12", "x2 must be greater than x1 and y2 than y1"),
    ("10,12,65,34", "outside the frame, which is 64 x 48 pixels"),
    ("-1,12,30,34", "outside the frame"),
    ("10,12,30,49", "outside the frame"),
    ("\n".join(["1,2,3,4"] * (MAX_BOXES + 1)), f"at most {MAX_BOXES}"),
])
def test_unusable_boxes_are_refused_with_the_line_and_the_reason(text, words):
    with pytest.raises(BoxError) as error:
        parse_boxes(text, (48, 64))
    assert words in str(error.value)


# --- the synthetic shapes ---------------------------------------------------------------------

def test_the_synthetic_shapes_are_found_where_their_true_boxes_are(tmp_path):
    for seed in range(4):
        plan = plan_video(seed, num_key_frames=1, size=64)
        path = tmp_path / f"{seed}.mp4"
        write_video(path, render_video(plan))
        with VideoReader(path) as reader:
            frame = reader.get_frames([30])[0].numpy()  # the key frame (H.264, decoded)
        truth = torch.tensor([b for _, _, b in key_frame_boxes(plan)]) * 64
        found = find_objects(frame)
        assert len(found) == len(truth)
        assert box_iou(found, truth).max(dim=1).values.min() > 0.8  # each one, tight
    assert len(find_objects(np.full((64, 64, 3), 30, np.uint8))) == 0  # nothing bright
    # a full-HD frame is searched at about 256 pixels a side: the boxes to within a step (8 px)
    big = np.full((1080, 1920, 3), 30, np.uint8)
    big[100:900, 40:1800] = 250  # a bright region nearly the frame's size
    big[950:1070, 1700:1900, 1] = 250  # and a smaller one below it
    found = find_objects(big)
    assert found.shape == (2, 4)
    assert (found - torch.tensor([[40, 100, 1800, 900], [1700, 950, 1900, 1070]])).abs().max() <= 8


# --- the default detector ---------------------------------------------------------------------

def test_the_shipped_detector_is_small_and_carries_its_domain_check():
    assert DEFAULT_DETECTOR.is_file() and DEFAULT_DETECTOR.stat().st_size <= 4 * 2**20
    model = load_exported(DEFAULT_DETECTOR)
    assert model.cfg.head == "detection" and model.classnames == list(ACTIONS.values())
    assert model.domain is not None and model.domain.info["heldout_accepted"] >= 0.99
    assert model.info["best_top1"] >= 0.9  # the frame mAP it was trained to


def test_the_example_is_answered_with_its_true_actions(entry, example):
    path, truth = example
    plan = plan_video(EXAMPLE_SEED, num_key_frames=1, size=64)
    result = detect(entry, str(path), truth, cam_box=1)
    assert not result.whole_frame and result.key_time == pytest.approx(1.0, abs=0.02)
    top = [next(iter(result.labels(i))) for i in range(len(result.boxes))]
    assert top == [ACTIONS[o.action] for o in plan.objects]  # one of each action
    assert result.in_domain is True and result.notice is None
    assert all(0 <= p <= 1 for p in result.scores.flatten())
    assert result.key_image.shape == (384, 384, 3)  # 64 x 64, drawn 6 times larger
    assert result.cam_box == 1 and result.cam_image.ndim == 3
    rows = result.to_dict()
    assert [r["box"] for r in rows] == parse_boxes(truth, (64, 64)).tolist()
    assert all(r["in_domain"] is True and r["domain_score"] <= 1 for r in rows)
    summary = result.summary()
    assert "Key frame: 1.00 s" in summary and "| #3 |" in summary
    assert "whole frame" not in summary
    assert suggest_boxes(entry, str(path)).count("\n") == 2  # the three shapes


def test_no_box_is_the_whole_frame(entry, example):
    result = detect(entry, str(example[0]), "", cam_box=None)
    assert result.whole_frame and result.boxes.tolist() == [[0, 0, 64, 64]]
    assert result.cam_image is None and result.cam_box is None
    assert "the whole frame is one box" in result.summary()


def test_a_clip_outside_its_world_is_not_an_answer(entry, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (32, 64, 96, 3), dtype=np.uint8)
    write_video(tmp_path / "noise.mp4", noise)
    result = detect(entry, str(tmp_path / "noise.mp4"), "10,10,40,40\n50,20,90,60")
    assert result.in_domain is False and "Boxes #1, #2 are outside" in result.notice
    assert "Not an answer" in result.summary() and "**no: not an answer**" in result.table()
    assert result.key_image.shape == (384, 576, 3)


def test_real_clips_are_outside_its_world(entry, shared_dir):
    for name in ("arm_wrestling.mp4", "archery.avi"):
        result = detect(entry, str(shared_dir / "clips" / name), "", cam_box=None)
        assert result.in_domain is False and result.notice.startswith("The box is outside")


def test_boxes_are_scaled_with_the_frame_as_the_detector_was_tested(entry, tmp_path):
    loaded = entry.get()
    frames = torch.zeros(16, 128, 192, 3, dtype=torch.uint8)
    inputs, rows = detector_inputs(frames, torch.tensor([[20.0, 10.0, 60.0, 50.0]]), loaded)
    slow, fast = inputs
    assert fast.shape == (1, 3, 16, 64, 96) and slow.shape == (1, 3, 4, 64, 96)
    assert rows.tolist() == [[0, 10, 5, 30, 25]]  # clip index, then half the pixels


def test_a_bad_video_or_a_missing_box_number_is_refused(entry, example, make_video):
    from slowfast_edu.data import VideoDecodeError

    with pytest.raises(VideoDecodeError, match="truncated"):
        detect(entry, str(make_video("truncated.mp4")), "")
    with pytest.raises(BoxError, match="no box #4 to explain: 3 boxes"):
        detect(entry, str(example[0]), example[1], cam_box=3)
    with pytest.raises(BoxError, match="outside the frame"):
        detect(entry, str(example[0]), "0,0,65,10")
    assert detect(entry, str(make_video("one_frame.mp4")), "", cam_box=None).whole_frame


def test_labels_are_drawn_inside_the_picture():
    from slowfast_edu.app.detection import Detection

    result = Detection(torch.tensor([[0.0, 50.0, 64.0, 64.0]]), torch.tensor([[0.1, 0.8, 0.3]]),
                       list(ACTIONS.values()), False, 1.0, (64, 64), [2.0])
    image = draw_boxes(np.zeros((64, 64, 3), np.uint8), result)
    assert image.shape == (384, 384, 3)
    assert result.labels(0) == pytest.approx({"moving_right": 0.8, "staying_still": 0.3,
                                              "moving_left": 0.1})
    # no room under the box: the labels go above it, the frame's top stays as it was
    assert (image[200:298, :100] != 0).any() and (image[:150] == 0).all()
    assert result.notice.startswith("The box is outside")


def test_a_failed_upload_becomes_a_message_naming_the_file_or_the_problem():
    from slowfast_edu.app.ui import refused, uploaded
    from slowfast_edu.data import VideoDecodeError

    unreadable = refused(VideoDecodeError("/x/clip.mp4", "no video stream"), "/x/clip.mp4")
    assert unreadable.title == "Cannot read this video" and "'clip.mp4'" in unreadable.message
    boxes = refused(BoxError("line 2 ('1,2'): 2 numbers"), "/x/clip.mp4")
    assert boxes.title == "Cannot use these boxes" and "line 2" in boxes.message
    other = refused(RuntimeError("out of memory"), "/x/clip.mp4", "find boxes on")
    assert other.message == "Could not find boxes on 'clip.mp4': RuntimeError: out of memory"
    assert uploaded("/tmp/preview.mp4", {"preview.mp4": "/up/clip.avi"}) == "/up/clip.avi"
    with pytest.raises(Exception, match="No video"):
        uploaded(None)
