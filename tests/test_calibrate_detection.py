"""A detector's domain check fitted on its boxes (`calibrate_detection.py`): one row of features
per box, its action as its class, the threshold from held-out boxes; a small generated set."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.calibrate_detection import box_features, detection_view, fit_detector_domain_check
from slowfast_edu.data.synthetic_detection import write_dataset
from slowfast_edu.models import load_model
from slowfast_edu.models.default import DEFAULT_DETECTOR


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Two tiny synthetic detection sets (generator seeds 0 and 1), 3 + 2 videos of 1 key frame."""
    root = tmp_path_factory.mktemp("calibrate_detection")
    write_dataset(root / "a", videos_train=3, videos_val=0, num_key_frames=1, seed=0,
                  progress=False)
    write_dataset(root / "b", videos_train=0, videos_val=2, num_key_frames=1, seed=1,
                  progress=False)
    return root


def test_one_row_per_box_with_its_action_and_its_clips_statistics(sets, one_torch_thread):
    loaded = load_model(DEFAULT_DETECTOR)
    dataset = detection_view(loaded, sets / "a" / "train.csv", sets / "a" / "videos")
    features, labels, stats = box_features(loaded, dataset, batch_size=2, progress=False)
    boxes = sum(len(k.boxes) for k in dataset.key_frames)
    assert features.shape == (boxes, loaded.network.head.proj.in_features)
    truth = torch.cat([k.labels.argmax(dim=1) for k in dataset.key_frames])
    assert labels.tolist() == truth.tolist()
    assert set(stats) == {"brightness", "contrast", "motion"}
    assert all(len(v) == boxes for v in stats.values())
    first = len(dataset.key_frames[0].boxes)  # the boxes of one clip share its statistics
    assert len(set(stats["motion"][:first].tolist())) == 1

    check = fit_detector_domain_check(loaded, sets / "a" / "train.csv", sets / "a" / "videos",
                                      sets / "b" / "val.csv", sets / "b" / "videos", rank=4,
                                      description="tiny", progress=False)
    assert check.means.shape == (int(labels.max()) + 1, features.shape[1])  # a mean per action
    assert check.info["task"] == "detection" and check.info["train_boxes"] == boxes
    assert 0 <= check.info["heldout_accepted"] <= 1 and check.description == "tiny"
    assert check.score(features, stats).inside.float().mean() >= 0.9  # its own boxes: inside
