"""Frame-level mean average precision at IoU 0.5: how the AVA benchmark scores a detector.

The official AVA evaluation (`get_ava_performance.py` of the ActivityNet challenge, which PySlowFast
runs too) is the Pascal VOC protocol of the TensorFlow object-detection API, applied to key frames:

1. per key frame, at most the 50 highest-scoring detections are kept (over all classes), and key
   frames in the excluded-timestamps list are dropped, from detections and ground truth alike;
2. per class, every detection of that class over all key frames is sorted by score, highest
   first; in its key frame, it is matched to the ground-truth box of that class with which it has
   the largest IoU. If that IoU is >= 0.5 and the box is not yet taken, the detection is a true
   positive and takes it; otherwise it is a false positive (also when that box was taken, even if
   another one overlaps it by 0.5: the VOC rule). A detection in a key frame without ground truth
   is a false positive;
3. precision and recall after each detection; AP is the area under the precision-recall curve
   made monotone (each precision replaced by the best precision at any higher recall), summed at
   every recall step ("all points", VOC 2010 on, not VOC 2007's 11 points);
4. the mean over the classes that have ground truth (AVA: the 60 classes of its label map).

COCO's evaluation (pycocotools, and torchmetrics' `MeanAveragePrecision`, which runs it) differs
in two ways, which is why the same detections get slightly different numbers from it:
interpolation, as the mean of that monotone precision at the 101 recalls 0, 0.01, ..., 1 (within
about 0.01 of the VOC area: `interpolation="coco101"` computes it here), and matching, to the best
*untaken* ground-truth box above the threshold. tests/test_frame_map.py checks both against
torchmetrics. Ties in score are broken by the detections' order (a stable sort).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import torch
from torchvision.ops import box_iou

from .ava import AvaBox

INTERPOLATIONS = ("voc", "coco101")


def average_precision(scores: np.ndarray, true_positive: np.ndarray, num_ground_truth: int,
                      interpolation: str = "voc") -> float:
    """AP of one class from its detections' scores and whether each is a true positive."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if num_ground_truth == 0:
        return float("nan")  # no ground truth: the class does not count
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")  # highest score first
    tp = np.asarray(true_positive, dtype=bool)[order]
    hits = np.cumsum(tp)
    precision = hits / np.arange(1, len(tp) + 1)
    recall = hits / num_ground_truth
    # make precision monotone: at each recall, the best precision at this recall or beyond
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(tp) else precision
    if interpolation == "coco101":  # the envelope at recall 0, 0.01, ..., 1 (0 beyond the last)
        at = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
        sampled = np.zeros(101)
        sampled[at < len(tp)] = envelope[at[at < len(tp)]]
        return float(sampled.mean())
    steps = np.diff(np.concatenate([[0.0], recall]))  # recall gained by each detection
    return float((steps * envelope).sum())  # only true positives gain recall


def _match(detections: list[AvaBox], truth: list[tuple[float, ...]],
           iou_threshold: float) -> np.ndarray:
    """True positive or not, per detection (given highest score first), by the VOC rule."""
    tp = np.zeros(len(detections), dtype=bool)
    if not truth or not detections:
        return tp
    iou = box_iou(torch.tensor([d.box for d in detections], dtype=torch.float64),
                  torch.tensor(truth, dtype=torch.float64))  # (D, G)
    best, which = iou.max(dim=1)
    taken = np.zeros(len(truth), dtype=bool)
    for i, (overlap, g) in enumerate(zip(best.tolist(), which.tolist())):
        if overlap >= iou_threshold and not taken[g]:
            tp[i], taken[g] = True, True
    return tp


def frame_map(detections: Iterable[AvaBox], ground_truth: Iterable[AvaBox],
              class_ids: Iterable[int] | None = None,
              excluded: Iterable[tuple[str, int]] = (), iou_threshold: float = 0.5,
              max_detections_per_frame: int | None = 50, interpolation: str = "voc") -> dict:
    """Frame-level mAP of `detections` (rows with a score) against `ground_truth` (rows with an
    action), as the AVA benchmark computes it (see the module docstring).

    `class_ids`: the classes to evaluate (AVA: the label map's 60); None: every class of the
    ground truth. Rows of other classes are ignored. Returns {"map": mean AP over the evaluated
    classes with ground truth, "per_class": {id: AP, NaN without ground truth},
    "num_ground_truth": {id: boxes}}.
    """
    excluded = set(excluded)
    truth = [g for g in ground_truth if (g.video_id, g.timestamp) not in excluded]
    if class_ids is None:
        class_ids = sorted({g.action_id for g in truth})
    classes = set(class_ids)
    gt = defaultdict(list)  # (class, video, timestamp) -> boxes
    for g in truth:
        if g.action_id in classes:
            gt[g.action_id, g.video_id, g.timestamp].append(g.box)
    frames = defaultdict(list)  # (video, timestamp) -> detections
    for d in detections:
        if d.score is None:
            raise ValueError(f"detection {d} has no score")
        if (d.video_id, d.timestamp) not in excluded and d.action_id in classes:
            frames[d.video_id, d.timestamp].append(d)
    per_class_detections = defaultdict(list)
    for rows in frames.values():
        rows = sorted(rows, key=lambda d: -d.score)  # stable: ties keep their order
        for d in rows[:max_detections_per_frame]:
            per_class_detections[d.action_id].append(d)
    per_class, counts = {}, {}
    for c in class_ids:
        counts[c] = sum(len(v) for (k, *_), v in gt.items() if k == c)
        rows = sorted(per_class_detections[c], key=lambda d: -d.score)
        tp = np.zeros(len(rows), dtype=bool)
        by_frame = defaultdict(list)
        for i, d in enumerate(rows):
            by_frame[d.video_id, d.timestamp].append(i)
        for (video, timestamp), index in by_frame.items():
            tp[index] = _match([rows[i] for i in index], gt.get((c, video, timestamp), []),
                               iou_threshold)
        per_class[c] = average_precision(np.array([d.score for d in rows]), tp, counts[c],
                                         interpolation)
    scored = [ap for ap in per_class.values() if not np.isnan(ap)]
    return {"map": float(np.mean(scored)) if scored else float("nan"), "per_class": per_class,
            "num_ground_truth": counts}


def detections_from_scores(video_id: str, timestamp: int, boxes: torch.Tensor,
                           probabilities: torch.Tensor, class_ids: Iterable[int]) -> list[AvaBox]:
    """One detection row per (box, class) of one key frame: `boxes` (K, 4) normalised,
    `probabilities` (K, C), column j scoring action `class_ids[j]`."""
    class_ids = list(class_ids)
    if probabilities.shape != (len(boxes), len(class_ids)):
        raise ValueError(f"probabilities must be (K, C) = ({len(boxes)}, {len(class_ids)}), got "
                         f"{tuple(probabilities.shape)}")
    return [AvaBox(video_id, int(timestamp), tuple(map(float, box)), c, score=float(p))
            for box, row in zip(boxes.tolist(), probabilities.tolist())
            for c, p in zip(class_ids, row)]
