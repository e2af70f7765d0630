"""Mean average precision (mAP) over classes: how multi-label video classification is scored.

In a multi-label set a clip may show several classes at once (Charades: 157 everyday actions,
several per 30-second video; the paper's Table 4 reports mAP: Slow-only 39.0, SlowFast 42.1), so
top-1 accuracy does not apply. Each class is a detection problem of its own: rank every video by
its score for the class and ask how early the videos that have it come. The average precision
(AP) of a class is the precision at each of its positives, averaged (no interpolation):

    AP = sum over thresholds n of (R_n - R_{n-1}) * P_n

with P_n and R_n the precision and recall of the videos scored at or above the n-th score; mAP is
the mean of the classes' APs. A model that scores every positive above every negative has AP 1;
random scores give about the fraction of positives. torchmetrics computes the APs
(`multilabel_average_precision`, the same formula as scikit-learn's `average_precision_score`).

The Charades protocol, as PySlowFast runs it (configs/Charades, `TestMeter`, `get_map`):
- training: a per-class sigmoid and binary cross-entropy on multi-hot targets (the `"multilabel"`
  head of `models.head`), one random clip per video;
- testing: several views of each video (10 clips x 3 crops), and the video's score for a class is
  the **maximum** over its views (`ENSEMBLE_METHOD: max`), not the mean: an action that happens in
  one stretch of a long video should count, however short (`video_scores`);
- mAP over the classes that have at least one positive video in the set (a class with none has
  no AP; PySlowFast drops it, as `mean_average_precision` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def average_precisions(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(K,) AP of every class from scores (N, K) and multi-hot targets (N, K); NaN where a class
    has no positive."""
    if scores.shape != targets.shape or scores.dim() != 2:
        raise ValueError(f"scores and targets must both be (videos, classes), got "
                         f"{tuple(scores.shape)} and {tuple(targets.shape)}")
    targets = targets.round().long()  # multi-hot: 0 or 1
    if not torch.isin(targets, torch.tensor([0, 1])).all():
        raise ValueError("targets must be multi-hot: 0 or 1 for every class")
    # imported here: torchmetrics takes a second to import, and only multi-label runs need it
    from torchmetrics.functional.classification import multilabel_average_precision

    aps = torch.full((scores.shape[1],), float("nan"))
    present = targets.sum(dim=0) > 0  # (K,) classes with a positive
    if present.any():
        aps[present] = multilabel_average_precision(
            scores[:, present].float(), targets[:, present], num_labels=int(present.sum()),
            average=None, thresholds=None)
    return aps


def mean_average_precision(scores: torch.Tensor, targets: torch.Tensor) -> float:
    """mAP: the mean AP of the classes with at least one positive (as PySlowFast's `get_map`)."""
    aps = average_precisions(scores, targets)
    if aps.isnan().all():
        raise ValueError("no class has a positive: mAP is undefined")
    return aps.nanmean().item()


def video_scores(scores: torch.Tensor, videos: torch.Tensor | Sequence[int],
                 reduce: str = "max") -> tuple[torch.Tensor, torch.Tensor]:
    """(video ids (V,), their scores (V, K)): the views (N, K) of each video combined, by the
    maximum over its views (the Charades protocol) or their mean (`reduce="mean"`)."""
    if reduce not in ("max", "mean"):
        raise ValueError(f"reduce must be 'max' or 'mean', got {reduce!r}")
    videos = torch.as_tensor(videos, dtype=torch.long)
    ids, which = torch.unique(videos, sorted=True, return_inverse=True)  # (V,), (N,)
    index = which[:, None].expand_as(scores)  # (N, K)
    out = scores.new_zeros(len(ids), scores.shape[1])
    out = out.scatter_reduce(0, index, scores, reduce="amax" if reduce == "max" else "mean",
                             include_self=False)
    return ids, out  # (V,), (V, K)


class MultiLabelScores:
    """Collects the sigmoid scores of every view, combines them per video, and reports mAP."""

    def __init__(self, num_classes: int, reduce: str = "max") -> None:
        self.num_classes, self.reduce = num_classes, reduce
        self.scores: list[torch.Tensor] = []
        self.targets: dict[int, torch.Tensor] = {}
        self.videos: list[torch.Tensor] = []

    def add(self, logits: torch.Tensor, targets: torch.Tensor, videos: torch.Tensor) -> None:
        """Add a batch of views: logits (B, K), multi-hot targets (B, K), video indices (B,);
        views of video -1 (an unreadable video, see `KineticsDataset`) are left out."""
        if logits.shape[1] != self.num_classes:
            raise ValueError(f"expected scores for {self.num_classes} classes, got "
                             f"{logits.shape[1]}")
        videos = torch.as_tensor(videos).cpu()
        keep = videos >= 0
        self.scores.append(logits.detach().float().sigmoid().cpu()[keep])
        self.videos.append(videos[keep])
        for v, t in zip(self.videos[-1].tolist(), targets.detach().cpu()[keep]):
            self.targets[v] = t

    def results(self) -> dict:
        """mAP (a fraction), the AP of every class (None where it has no positive), videos, and
        top1: the fraction of videos whose top-scored class is one of theirs."""
        if not self.scores or not any(len(v) for v in self.videos):
            raise ValueError("no scores were added")
        ids, scores = video_scores(torch.cat(self.scores), torch.cat(self.videos), self.reduce)
        targets = torch.stack([self.targets[v] for v in ids.tolist()])  # (V, K)
        aps = average_precisions(scores, targets)
        top = scores.argmax(dim=1, keepdim=True)  # (V, 1)
        return {"mAP": aps.nanmean().item(), "videos": len(ids),
                "top1": targets.gather(1, top).float().mean().item(),
                "per_class_ap": [None if a != a else round(a, 6) for a in aps.tolist()],
                "classes_scored": int((~aps.isnan()).sum())}
