"""Accuracy, as the paper reports it: top-1 and top-5, over single views or averaged over the
views of each video (softmax scores averaged over 10 clips x 3 crops)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import torch


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)
                 ) -> list[int]:
    """How many of the batch have their label among the top k scores, for each k."""
    k_max = min(max(ks), logits.shape[1])
    top = logits.topk(k_max, dim=1).indices  # (B, k)
    hits = top == labels[:, None]
    return [int(hits[:, : min(k, k_max)].any(dim=1).sum()) for k in ks]


class VideoScores:
    """Collects the softmax scores of every view and averages them per video."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.sums: dict[int, torch.Tensor] = {}
        self.counts: dict[int, int] = defaultdict(int)
        self.labels: dict[int, int] = {}

    def add(self, logits: torch.Tensor, labels: torch.Tensor, videos: torch.Tensor) -> None:
        """Add a batch of views: logits (B, K), labels (B,), video indices (B,); views of video
        -1 (an unreadable video, see `KineticsDataset`) are left out."""
        scores = logits.float().softmax(dim=1).cpu()
        for s, y, v in zip(scores, labels.tolist(), videos.tolist()):
            if v < 0:
                continue
            self.sums[v] = self.sums.get(v, 0) + s
            self.counts[v] += 1
            self.labels[v] = y

    def results(self) -> dict:
        """top1, top5 (fractions), per-class accuracy, confusion matrix, number of videos."""
        if not self.sums:
            return {"top1": 0.0, "top5": 0.0, "videos": 0, "per_class": [],
                    "confusion": torch.zeros(self.num_classes, self.num_classes, dtype=torch.long)}
        videos = sorted(self.sums)
        scores = torch.stack([self.sums[v] / self.counts[v] for v in videos])
        labels = torch.tensor([self.labels[v] for v in videos])
        top1, top5 = topk_correct(scores, labels)
        confusion = torch.zeros(self.num_classes, self.num_classes, dtype=torch.long)
        confusion.index_put_((labels, scores.argmax(1)), torch.ones(len(videos), dtype=torch.long),
                             accumulate=True)
        per_class = (confusion.diag().float() / confusion.sum(1).clamp(min=1).float()).tolist()
        return {"top1": top1 / len(videos), "top5": top5 / len(videos), "videos": len(videos),
                "per_class": per_class, "confusion": confusion}


def plot_confusion(confusion: torch.Tensor, classnames: list[str], path: str | Path) -> Path:
    """Save the confusion matrix (rows: true class, columns: predicted) as a figure."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    n = len(classnames)
    fig = Figure(figsize=(max(4, 0.35 * n + 2), max(3.5, 0.35 * n + 1.5)))
    ax = fig.subplots()
    normalised = confusion.float() / confusion.sum(1, keepdim=True).clamp(min=1)
    ax.imshow(normalised.numpy(), cmap="Blues", vmin=0, vmax=1)
    if n <= 40:
        ax.set_xticks(range(n), classnames, rotation=90, fontsize=7)
        ax.set_yticks(range(n), classnames, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (fraction of each true class)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return Path(path)
