"""mAP over classes as the Charades protocol computes it: equal to a hand-computed value, classes
without positives left out, and views combined per video by their maximum."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.mean_ap import (MultiLabelScores, average_precisions, mean_average_precision,
                                  video_scores)

# 4 videos x 4 classes. By hand, AP = mean over a class's positives of the precision at its rank:
#   class 0: ranks +, -, +, -  -> (1/1 + 2/3) / 2 = 5/6
#   class 1: ranks -, -, +, -  -> (1/3) / 1       = 1/3
#   class 2: no positive       -> no AP, left out of the mean
#   class 3: a tie of + and - at the top, then -, + -> 0.5 * (1/2) + 0.5 * (2/4) = 1/2
SCORES = torch.tensor([[0.9, 0.2, 0.5, 0.5],
                       [0.8, 0.7, 0.4, 0.5],
                       [0.3, 0.6, 0.3, 0.2],
                       [0.1, 0.4, 0.2, 0.1]])
TARGETS = torch.tensor([[1, 0, 0, 1],
                        [0, 0, 0, 0],
                        [1, 0, 0, 0],
                        [0, 1, 0, 1]])


def test_map_equals_the_hand_computed_value():
    aps = average_precisions(SCORES, TARGETS)
    assert aps[[0, 1, 3]].tolist() == pytest.approx([5 / 6, 1 / 3, 1 / 2])
    assert aps[2].isnan()
    assert mean_average_precision(SCORES, TARGETS) == pytest.approx((5 / 6 + 1 / 3 + 1 / 2) / 3)
    # AP depends only on the ranking: logits (before the sigmoid) give the same
    assert mean_average_precision(torch.logit(SCORES), TARGETS) == pytest.approx(5 / 9)
    perfect = TARGETS.float() + 0.01 * torch.rand(4, 4)
    assert mean_average_precision(perfect, TARGETS) == pytest.approx(1.0)


def test_bad_targets_are_refused():
    with pytest.raises(ValueError, match="multi-hot"):
        average_precisions(SCORES, TARGETS * 2)
    with pytest.raises(ValueError, match=r"\(videos, classes\)"):
        average_precisions(SCORES, TARGETS[:, :3])
    with pytest.raises(ValueError, match="no class has a positive"):
        mean_average_precision(SCORES, torch.zeros(4, 4))


def test_views_are_combined_per_video_by_their_maximum():
    views = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.3], [0.5, 0.1]])
    ids, scores = video_scores(views, [7, 7, 2, 2])
    assert ids.tolist() == [2, 7]
    assert torch.allclose(scores, torch.tensor([[0.5, 0.3], [0.8, 0.9]]))
    _, mean = video_scores(views, [7, 7, 2, 2], reduce="mean")
    assert torch.allclose(mean, torch.tensor([[0.4, 0.2], [0.45, 0.55]]))


def test_the_collector_scores_videos_from_their_views():
    meter = MultiLabelScores(num_classes=4)
    logits = torch.logit(SCORES)
    for view in range(2):  # two views of each video; the second one scores every class lower
        meter.add(logits - 2.0 * view, TARGETS, torch.arange(4))
    result = meter.results()
    assert result["mAP"] == pytest.approx(5 / 9) and result["videos"] == 4
    assert result["classes_scored"] == 3 and result["per_class_ap"][2] is None
    assert result["top1"] == 0.5  # the top class is one of the video's for videos 0 and 3
    meter.add(torch.zeros(1, 4), torch.ones(1, 4), torch.tensor([-1]))  # an unreadable video
    assert meter.results() == result  # left out
