"""Checks of notebook 11 (action detection): RoIAlign by hand, IoU, and average precision."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torchvision.ops import box_iou, roi_align

from ..data import ava_eval
from .common import as_tensor, diagnose, exercise_check, fail, own, run_student, same

# (C, H, W), box (x1, y1, x2, y2) in input pixels, output size, spatial scale, sampling ratio
ROI_SETTINGS = [
    ((2, 5, 6), (3.0, 2.0, 41.0, 30.5), (2, 3), 1 / 8, 2),
    ((3, 4, 4), (0.0, 0.0, 64.0, 64.0), (3, 3), 1 / 16, 2),  # the whole frame, to the border
    ((1, 6, 7), (20.0, 9.0, 22.0, 11.0), (2, 2), 1 / 4, 3),  # smaller than a cell
    ((2, 7, 5), (-6.0, 30.0, 25.0, 60.0), (4, 2), 1 / 8, 1),  # partly outside the frame
]


def _roi(features: torch.Tensor, box, size, scale, ratio, aligned=False) -> torch.Tensor:
    rois = torch.tensor([[0.0, *box]])
    return roi_align(features[None], rois, size, scale, ratio, aligned)[0]  # (C, ph, pw)


@exercise_check("my_roi_align", library=lambda: [], subclass=False, wrong=[
    ("def my_roi_align(features, box, output_size, spatial_scale, sampling_ratio):\n"
     "    C, H, W = features.shape\n"
     "    x1, y1, x2, y2 = box\n"
     "    i = torch.linspace(y1, y2, output_size[0]).round().long().clamp(0, H - 1)\n"
     "    j = torch.linspace(x1, x2, output_size[1]).round().long().clamp(0, W - 1)\n"
     "    return features[:, i][:, :, j]\n", "spatial_scale"),
    ("def my_roi_align(features, box, output_size, spatial_scale, sampling_ratio):\n"
     "    return features.mean(dim=(1, 2))[:, None, None].expand(-1, *output_size)\n",
     "bilinear"),
])
def check_roi_align(my_roi_align: Callable) -> None:
    """Exercise 11.1: RoIAlign of one box on one feature map, as torchvision's (aligned=False)."""
    name = "my_roi_align"
    own(my_roi_align, name)
    g = torch.Generator().manual_seed(3)
    for shape, box, size, scale, ratio in ROI_SETTINGS:
        features = torch.randn(shape, generator=g)
        setting = (f"a {tuple(shape)} map, box {box} at spatial_scale {scale:g}, output {size}, "
                   f"sampling_ratio {ratio}")
        got = run_student(my_roi_align, (features.clone(), box, size, scale, ratio), name,
                          [roi_align], setting=setting)
        want = _roi(features, box, size, scale, ratio)
        if same(got, want):
            continue
        t = as_tensor(got)
        if t is None or tuple(t.shape) != tuple(want.shape):
            raise fail(f"{name} for {setting}: got shape {None if t is None else tuple(t.shape)},"
                       f" expected {tuple(want.shape)} (C, ph, pw)",
                       "one value per channel and output cell")
        hint = diagnose(got, [
            ("aligned=False, as the reference detectors: no half-pixel shift of the box",
             lambda: _roi(features, box, size, scale, ratio, aligned=True)),
            ("multiply the box by spatial_scale: it is in input pixels, the map is smaller",
             lambda: _roi(features, box, size, 1.0, ratio)),
            ("sampling_ratio x sampling_ratio points per output cell, averaged",
             lambda: _roi(features, box, size, scale, 1)),
        ])
        raise fail(f"{name} for {setting} (not the notebook's case) differs from "
                   f"torchvision.ops.roi_align",
                   hint or "sample each bin at the centres of a sampling_ratio x sampling_ratio "
                   "grid, bilinear between the four cells around each point, after "
                   "multiplying the box by spatial_scale")
    print(f"✓ {name}: equal to torchvision's roi_align on {len(ROI_SETTINGS)} boxes (one "
          f"touching the border, one smaller than a cell, one partly outside)")


IOU_CASES = [((0.0, 0.0, 4.0, 4.0), (2.0, 2.0, 6.0, 6.0)),
             ((1.0, 1.0, 3.0, 5.0), (1.0, 1.0, 3.0, 5.0)),
             ((0.0, 0.0, 1.0, 1.0), (2.0, 2.0, 3.0, 3.0)),  # apart
             ((0.0, 0.0, 2.0, 2.0), (2.0, 0.0, 4.0, 2.0)),  # touching
             ((0.1, 0.2, 0.7, 0.9), (0.3, 0.1, 0.5, 0.4))]  # one inside the other's width


@exercise_check("my_iou", library=lambda: [], subclass=False, wrong=[
    ("def my_iou(a, b):\n"
     "    w = min(a[2], b[2]) - max(a[0], b[0])\n"
     "    h = min(a[3], b[3]) - max(a[1], b[1])\n"
     "    inter = w * h\n"
     "    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])\n"
     "    return inter / (area(a) + area(b) - inter)\n", "apart"),
    ("def my_iou(a, b):\n"
     "    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))\n"
     "    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))\n"
     "    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])\n"
     "    return w * h / (area(a) + area(b))\n", "union"),
])
def check_iou(my_iou: Callable) -> None:
    """Exercise 11.2: intersection over union of two boxes (x1, y1, x2, y2)."""
    name = "my_iou"
    own(my_iou, name)
    for a, b in IOU_CASES:
        setting = f"boxes {a} and {b}"
        got = run_student(my_iou, (a, b), name, [box_iou], setting=setting)
        want = float(box_iou(torch.tensor([a]), torch.tensor([b]))[0, 0])
        if same(float(got) if isinstance(got, (int, float)) else got, want):
            continue
        t = as_tensor(got)
        if t is None or t.numel() != 1:
            raise fail(f"{name} for {setting}: got {got!r}", "return one number")
        value = float(t)
        area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        hint = None
        if w <= 0 or h <= 0:
            hint = "boxes apart (or touching) overlap by 0: clamp the width and height at 0"
        elif abs(value - w * h / (area(a) + area(b))) < 1e-6:
            hint = "the union is area(a) + area(b) - intersection"
        raise fail(f"{name} for {setting}: got {value:.4f}, expected {want:.4f}", hint)
    print(f"✓ {name}: right on {len(IOU_CASES)} pairs (overlapping, equal, apart, touching, "
          f"nested in one axis)")


AP_CASES = [  # scores, true positive, ground-truth boxes
    ([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1], 4),
    ([0.2, 0.95, 0.4, 0.6], [0, 1, 1, 0], 2),
    ([0.9, 0.85, 0.3], [0, 0, 1], 1),
    ([0.5, 0.4, 0.3, 0.2, 0.1, 0.05], [0, 1, 0, 1, 1, 0], 5),
]


def _eleven_point(scores, tp, n) -> float:
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    hits = np.cumsum(np.asarray(tp, dtype=bool)[order])
    precision, recall = hits / np.arange(1, len(tp) + 1), hits / n
    return float(np.mean([precision[recall >= r].max() if (recall >= r).any() else 0.0
                          for r in np.linspace(0, 1, 11)]))


def _no_envelope(scores, tp, n) -> float:
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    hits = np.cumsum(np.asarray(tp, dtype=bool)[order])
    precision, recall = hits / np.arange(1, len(tp) + 1), hits / n
    return float((np.diff(np.concatenate([[0.0], recall])) * precision).sum())


@exercise_check("my_average_precision", library=lambda: [ava_eval.average_precision],
                subclass=False, wrong=[
    ("def my_average_precision(scores, true_positive, num_ground_truth):\n"
     "    order = np.argsort(-np.asarray(scores, dtype=float), kind='stable')\n"
     "    hits = np.cumsum(np.asarray(true_positive, dtype=bool)[order])\n"
     "    precision = hits / np.arange(1, len(order) + 1)\n"
     "    recall = hits / num_ground_truth\n"
     "    return float((np.diff(np.concatenate([[0.0], recall])) * precision).sum())\n",
     "monotone"),
    ("def my_average_precision(scores, true_positive, num_ground_truth):\n"
     "    tp = np.asarray(true_positive, dtype=bool)\n"
     "    hits = np.cumsum(tp)\n"
     "    precision = hits / np.arange(1, len(tp) + 1)\n"
     "    envelope = np.maximum.accumulate(precision[::-1])[::-1]\n"
     "    recall = hits / num_ground_truth\n"
     "    return float((np.diff(np.concatenate([[0.0], recall])) * envelope).sum())\n", "sort"),
])
def check_average_precision(my_average_precision: Callable) -> None:
    """Exercise 11.3: VOC all-points average precision of one class."""
    name = "my_average_precision"
    own(my_average_precision, name)
    for scores, tp, n in AP_CASES:
        setting = f"scores {scores}, true positives {tp}, {n} ground-truth boxes"
        got = run_student(my_average_precision, (list(scores), list(tp), n), name,
                          [ava_eval.average_precision], setting=setting)
        want = ava_eval.average_precision(np.array(scores), np.array(tp), n)
        t = as_tensor(got)
        if t is not None and t.numel() == 1 and abs(float(t) - want) < 1e-6:
            continue
        if t is None or t.numel() != 1:
            raise fail(f"{name} for {setting}: got {got!r}", "return one number")
        value = float(t)
        order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
        hint = diagnose(value, [
            ("make precision monotone first: at each recall, the best precision at that "
             "recall or beyond", lambda: _no_envelope(scores, tp, n)),
            ("the area at every recall step (all points, VOC 2010 on), not at 11 recalls",
             lambda: _eleven_point(scores, tp, n)),
            ("recall divides by the number of ground-truth boxes, not of detections",
             lambda: ava_eval.average_precision(np.array(scores), np.array(tp), len(tp))),
        ], atol=1e-6)
        if hint is None and not np.all(order == np.arange(len(order))):
            unsorted = ava_eval.average_precision(np.arange(len(tp), 0, -1), np.array(tp), n)
            if abs(value - unsorted) < 1e-6:
                hint = "sort the detections by score, highest first, before counting"
        raise fail(f"{name} for {setting}: got {value:.4f}, expected {want:.4f}", hint)
    print(f"✓ {name}: right on {len(AP_CASES)} ranked lists (unsorted scores included)")
