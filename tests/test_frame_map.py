"""Frame-level mAP at IoU 0.5 (AVA's metric): a case worked by hand, the VOC/COCO differences, and
a cross-check against an independent implementation, torchmetrics' COCO mAP (pycocotools)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from slowfast_edu.data.ava import AvaBox
from slowfast_edu.data.ava_eval import average_precision, detections_from_scores, frame_map


def gt(video, t, box, action):
    return AvaBox(video, t, box, action, person_id=0)


def det(video, t, box, action, score):
    return AvaBox(video, t, box, action, score=score)


A, B, C = (0.1, 0.1, 0.3, 0.5), (0.5, 0.5, 0.9, 0.9), (0.6, 0.0, 0.9, 0.3)
NEAR_A = (0.1, 0.1, 0.3, 0.45)  # IoU with A: 0.875
OFF_A = (0.2, 0.1, 0.4, 0.5)  # IoU with A: 1/3


def test_a_case_worked_by_hand():
    truth = [gt("v", 1, A, 1), gt("v", 1, B, 1), gt("v", 2, C, 1),
             gt("v", 1, A, 2),  # A does two things at once (multi-label)
             gt("v", 3, B, 1)]  # an excluded key frame: not counted
    detections = [det("v", 1, NEAR_A, 1, 0.9),  # TP (A)
                  det("v", 1, OFF_A, 1, 0.8),  # FP: IoU 1/3
                  det("v", 2, C, 1, 0.7),  # TP (C)
                  det("w", 5, C, 1, 0.6),  # FP: a key frame without ground truth
                  det("v", 3, B, 1, 0.95),  # excluded
                  det("v", 1, A, 2, 0.5),  # TP for class 2
                  det("v", 1, A, 7, 0.99)]  # class 7 is not evaluated
    # class 1: precision 1, 1/2, 2/3, 1/2 at recall 1/3, 1/3, 2/3, 2/3 of its 3 boxes;
    # monotone: 1, 2/3, 2/3, 1/2; AP = 1/3 * 1 + 1/3 * 2/3 = 5/9 (B is never found)
    result = frame_map(detections, truth, class_ids=[1, 2, 3], excluded={("v", 3)})
    assert result["per_class"][1] == pytest.approx(5 / 9)
    assert result["per_class"][2] == pytest.approx(1.0)
    assert math.isnan(result["per_class"][3])  # no ground truth: left out of the mean
    assert result["map"] == pytest.approx((5 / 9 + 1) / 2)
    assert result["num_ground_truth"] == {1: 3, 2: 1, 3: 0}
    # COCO's 101 recalls: 34 of them (0 ... 0.33) at precision 1, 33 (0.34 ... 0.66) at 2/3
    coco = frame_map(detections, truth, [1], {("v", 3)}, interpolation="coco101")
    assert coco["per_class"][1] == pytest.approx((34 + 33 * 2 / 3) / 101)  # 0.5545, not 0.5556
    # without the exclusion, the 0.95 detection of frame 3 is a true positive of a 4th box
    assert frame_map(detections, truth, [1])["per_class"][1] == pytest.approx(
        1 / 4 * 1 + 1 / 4 * 1 + 1 / 4 * 3 / 4)


def test_the_voc_matching_rule():
    # both detections overlap A and A2 by > 0.5, and each prefers A: the second one is a false
    # positive for AVA (its best box is taken), a true positive for COCO (A2 is free)
    a2 = (0.1, 0.1, 0.3, 0.42)
    truth = [gt("v", 1, A, 1), gt("v", 1, a2, 1)]
    detections = [det("v", 1, A, 1, 0.9), det("v", 1, (0.1, 0.1, 0.3, 0.47), 1, 0.8)]
    assert frame_map(detections, truth)["map"] == pytest.approx(0.5)
    reference = _torchmetrics_map(detections, truth)
    assert reference["map"] == pytest.approx(1.0)


def test_at_most_50_detections_per_key_frame_and_average_precision_edges():
    truth = [gt("v", 1, A, 1)]
    noise = [det("v", 1, C, 1, 0.9 - i / 1000) for i in range(50)]
    assert frame_map(noise + [det("v", 1, A, 1, 0.1)], truth)["map"] == 0.0  # the 51st is cut
    assert frame_map(noise + [det("v", 1, A, 1, 0.1)], truth,
                     max_detections_per_frame=None)["map"] == pytest.approx(1 / 51)
    assert average_precision(np.array([]), np.array([]), 3) == 0.0  # missed everything
    assert math.isnan(average_precision(np.array([0.5]), np.array([False]), 0))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        average_precision(np.array([0.5]), np.array([True]), 1, "11point")


def test_detections_from_scores():
    rows = detections_from_scores("v", 7, torch.tensor([A, B]), torch.tensor([[0.1, 0.9],
                                                                              [0.6, 0.2]]), [4, 9])
    assert [(r.box, r.action_id, round(r.score, 3)) for r in rows] == [
        (pytest.approx(A), 4, 0.1), (pytest.approx(A), 9, 0.9), (pytest.approx(B), 4, 0.6),
        (pytest.approx(B), 9, 0.2)]
    with pytest.raises(ValueError, match=r"must be \(K, C\) = \(2, 3\)"):
        detections_from_scores("v", 7, torch.tensor([A, B]), torch.zeros(2, 2), [1, 2, 3])


# ---------------------------------------------------------------- against torchmetrics (COCO)

def _torchmetrics_map(detections, truth, classes=None):
    """COCO mAP at IoU 0.5 from torchmetrics (pycocotools), per class, one image per key frame."""
    detection = pytest.importorskip("torchmetrics.detection")
    pytest.importorskip("pycocotools", reason="torchmetrics' detection mAP runs pycocotools")
    frames = sorted({(r.video_id, r.timestamp) for r in [*detections, *truth]})

    def pack(rows, key, scores):
        rows = [r for r in rows if (r.video_id, r.timestamp) == key]
        out = {"boxes": torch.tensor([r.box for r in rows], dtype=torch.float64).reshape(-1, 4),
               "labels": torch.tensor([r.action_id for r in rows], dtype=torch.long)}
        if scores:
            out["scores"] = torch.tensor([r.score for r in rows], dtype=torch.float64)
        return out

    # the 101 recalls as pycocotools makes them (torchmetrics' default makes them in float32, and
    # recall 0.3 of 10 boxes then falls short of its threshold 0.3000000119); per-class numbers
    # are read at 100 detections per image and class (the cases have fewer)
    metric = detection.MeanAveragePrecision(iou_thresholds=[0.5], class_metrics=True,
                                            rec_thresholds=np.linspace(0, 1, 101).tolist())
    metric.update([pack(detections, k, True) for k in frames], [pack(truth, k, False)
                                                                for k in frames])
    result = metric.compute()
    per_class = dict(zip(result["classes"].reshape(-1).tolist(),
                         result["map_per_class"].reshape(-1).tolist()))
    return {"map": result["map_50"].item(), "per_class": per_class}


def _random_case(seed: int, frames: int = 12, classes: int = 4):
    """Ground truth in separate cells of a 3 x 3 grid (so a detection can overlap at most one
    box by 0.5, and both matching rules agree) and detections near and far from it."""
    rng = np.random.default_rng(seed)
    truth, detections = [], []
    for f in range(frames):
        for cell in rng.choice(9, size=rng.integers(1, 4), replace=False):
            x, y = cell % 3 / 3, cell // 3 / 3
            box = (x + 0.02, y + 0.02, x + rng.uniform(0.15, 0.3), y + rng.uniform(0.15, 0.3))
            labels = rng.choice(classes, size=rng.integers(1, 3), replace=False) + 1
            truth += [gt("v", f, box, int(c)) for c in labels]
            for _ in range(rng.integers(0, 4)):  # near it (IoU above or below 0.5), any class
                jitter = rng.normal(0, 0.03, 4)
                near = tuple(np.clip(np.array(box) + jitter, 0, 1))
                near = (min(near[0], near[2]), min(near[1], near[3]), max(near[0], near[2]),
                        max(near[1], near[3]))
                c = int(labels[0]) if rng.random() < 0.6 else int(rng.integers(1, classes + 1))
                detections.append(det("v", f, near, c, float(rng.random())))
        for _ in range(rng.integers(0, 3)):  # somewhere
            x, y = rng.uniform(0, 0.8, 2)
            detections.append(det("v", f, (x, y, x + 0.2, y + 0.2),
                                  int(rng.integers(1, classes + 1)), float(rng.random())))
    return detections, truth


@pytest.mark.parametrize("seed", range(5))
def test_same_as_torchmetrics_with_cocos_interpolation_on_random_cases(seed):
    detections, truth = _random_case(seed)
    reference = _torchmetrics_map(detections, truth)
    ours = frame_map(detections, truth, interpolation="coco101", max_detections_per_frame=None)
    for c, ap in ours["per_class"].items():
        assert ap == pytest.approx(reference["per_class"][c], abs=1e-6), c
    assert ours["map"] == pytest.approx(reference["map"], abs=1e-6)
    # AVA's all-point VOC area differs from COCO's 101-point mean by at most ~1/100 per class
    voc = frame_map(detections, truth, max_detections_per_frame=None)
    for c, ap in voc["per_class"].items():
        assert abs(ap - reference["per_class"][c]) <= 0.011, c
