"""Does a clip look like the clips a model was trained on? A check a classifier can carry.

A classifier always answers with one of its classes, even for a clip unlike anything it has seen
(the default model calls a Kinetics clip of arm wrestling "red_circle_moving_left", 100%). Its
softmax does not know better, but its features do: clips of its world land near the features of
its training clips, other clips far away. So the model carries statistics of its training set and
measures how far a clip's features are (Lee et al., "A Simple Unified Framework for Detecting
Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018):

- **Features**: the pooled features the classifier sees, the input of `head.proj`, captured with a
  forward pre-hook (D = 1152 for `slowfast_tiny`). Over the training views, the mean of each
  class mu_c and one covariance Sigma shared by the classes (of x - mu_c).
- **Distance**: the Mahalanobis distance to the nearest class mean, per dimension,
  `min_c (x - mu_c)^T Sigma^-1 (x - mu_c) / D`: about 1 for a typical training clip.
- **Low rank**: a full 1152 x 1152 covariance would be 5 MB and, from ~1000 clips, singular. So
  Sigma is kept as its top `rank` principal directions U (k x D) with their variances lambda, plus
  one variance s^2 for all the other directions (the mean of the rest, probabilistic PCA's form):
  `d^2 = sum_i (u_i . r)^2 / lambda_i + (|r|^2 - sum_i (u_i . r)^2) / s^2`, r = x - mu_c.
  Stored as (K + k) x D floats: 0.17 MB for the default model.
- **Threshold**: set on held-out clips (generated with seeds not used for training): the
  `quantile` of their distances times `margin`, so that nearly every clip of the model's world
  is accepted.
- **Input statistics**: features alone could miss a clip too plain to excite any of them (a flat
  colour). So three cheap statistics of the clip the model sees are checked against their range
  over the training views: brightness (the mean), contrast (log of each frame's spread) and
  motion (log of the mean change between neighbouring frames). A clip is outside the range when it
  is further beyond it than `tolerance` times the range's width.

`score` gives one number per clip: the larger of the feature distance over its threshold and the
input statistics' distance beyond their tolerance, so that **a score of at most 1 is in the
model's world**. The check fits a model of a small world (the synthetic motion set); a Kinetics
model ships without one (its check is off), since its training set is not at hand here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

RANK = 32  # principal directions kept of the within-class covariance
QUANTILE, MARGIN = 0.99, 1.25  # threshold = 1.25 x the 99th percentile of held-out distances
TOLERANCE = 0.5  # input statistics may lie this many range widths outside the training range
_EPS = 1e-3  # inside the logs: a flat clip's zero contrast is far out, not minus infinity


@contextmanager
def capture_pooled_features(model: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Within the block, each forward of `model` appends its pooled features (B, D), the input
    of the classifier `model.head.proj`, to the yielded list."""
    captured: list[torch.Tensor] = []

    def keep(module: nn.Module, args: tuple) -> None:
        captured.append(args[0].detach().float())  # (B, D)

    handle = model.head.proj.register_forward_pre_hook(keep)
    try:
        yield captured
    finally:
        handle.remove()


def input_statistics(clip: torch.Tensor) -> dict[str, torch.Tensor]:
    """Brightness, log contrast and log motion of normalised clips (B, C, T, H, W): {name: (B,)}."""
    clip = clip.detach().float()
    frames = clip.transpose(1, 2).flatten(2)  # (B, T, C*H*W)
    motion = ((clip[:, :, 1:] - clip[:, :, :-1]).abs().mean(dim=(1, 2, 3, 4))
              if clip.shape[2] > 1 else torch.zeros(len(clip)))
    return {"brightness": clip.mean(dim=(1, 2, 3, 4)),
            "contrast": torch.log(frames.std(dim=2).mean(dim=1) + _EPS),
            "motion": torch.log(motion + _EPS)}


@dataclass
class DomainScore:
    """How far clips are from the model's world: `score` <= 1 inside; the parts of it."""

    score: torch.Tensor  # (N,) max(features / threshold, inputs)
    features: torch.Tensor  # (N,) Mahalanobis distance per dimension to the nearest class
    inputs: torch.Tensor  # (N,) how far the input statistics lie beyond their tolerance

    @property
    def inside(self) -> torch.Tensor:
        """(N,) bool: in the model's world."""
        return self.score <= 1


@dataclass
class DomainCheck:
    """Training-set statistics of a model's pooled features and inputs (see the module doc)."""

    means: torch.Tensor  # (K, D) class means of the pooled features
    basis: torch.Tensor  # (k, D) principal directions of the within-class covariance
    variances: torch.Tensor  # (k,) the variance along each
    residual_variance: float  # s^2: the variance of every other direction
    threshold: float  # on the feature distance
    input_ranges: dict[str, tuple[float, float]]  # training min and max of each statistic
    tolerance: float = TOLERANCE
    description: str = ""  # the model's world in words, e.g. "the synthetic motion set (...)"
    info: dict = field(default_factory=dict)  # how it was made: clips, seeds, rank, numbers

    def feature_distance(self, features: torch.Tensor) -> torch.Tensor:
        """min_c Mahalanobis^2(x, mu_c) / D for features (N, D): (N,)."""
        r = features.float()[:, None, :] - self.means[None]  # (N, K, D)
        p = r @ self.basis.T  # (N, K, k): the residual along the principal directions
        d2 = ((p ** 2) / self.variances).sum(-1) + (
            (r ** 2).sum(-1) - (p ** 2).sum(-1)).clamp(min=0) / self.residual_variance  # (N, K)
        return d2.min(dim=1).values / self.means.shape[1]

    def input_distance(self, inputs: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        """How far the input statistics of clips (N, C, T, H, W) (or `input_statistics` of them)
        lie outside the training ranges, in units of `tolerance` x each range's width: (N,)."""
        stats = input_statistics(inputs) if isinstance(inputs, torch.Tensor) else inputs
        beyond = []
        for name, (low, high) in self.input_ranges.items():
            width = max(high - low, 1e-6)
            v = stats[name]
            beyond.append(torch.maximum(low - v, v - high).clamp(min=0) / (self.tolerance * width))
        return torch.stack(beyond).max(dim=0).values

    def score(self, features: torch.Tensor, inputs: torch.Tensor | dict[str, torch.Tensor]
              ) -> DomainScore:
        """Scores for pooled features (N, D) and the clips (N, C, T, H, W) that gave them (the
        finest pathway's input), or their `input_statistics`."""
        f = self.feature_distance(features)
        i = self.input_distance(inputs)
        return DomainScore(torch.maximum(f / self.threshold, i), f, i)

    def state(self) -> dict:
        """Plain tensors, numbers and strings (what `torch.save` with weights_only reads back)."""
        return {"means": self.means, "basis": self.basis, "variances": self.variances,
                "residual_variance": self.residual_variance, "threshold": self.threshold,
                "input_ranges": {k: list(v) for k, v in self.input_ranges.items()},
                "tolerance": self.tolerance, "description": self.description,
                "info": dict(self.info)}

    @classmethod
    def from_state(cls, state: dict) -> DomainCheck:
        """The check saved by `state()`."""
        return cls(state["means"].float(), state["basis"].float(), state["variances"].float(),
                   float(state["residual_variance"]), float(state["threshold"]),
                   {k: (float(v[0]), float(v[1])) for k, v in state["input_ranges"].items()},
                   float(state.get("tolerance", TOLERANCE)), str(state.get("description", "")),
                   dict(state.get("info", {})))


def fit_domain(features: torch.Tensor, labels: torch.Tensor, clips_stats: dict[str, torch.Tensor],
               heldout_features: torch.Tensor, rank: int = RANK, quantile: float = QUANTILE,
               margin: float = MARGIN, description: str = "") -> DomainCheck:
    """Fit the check on training features (N, D) with their labels (N,) and input statistics
    ({name: (N,)}, from `input_statistics`); set the threshold on held-out features (M, D)."""
    features = features.double()
    classes = int(labels.max()) + 1
    means = torch.stack([features[labels == c].mean(dim=0) for c in range(classes)])  # (K, D)
    residuals = features - means[labels]  # (N, D)
    _, s, vh = torch.linalg.svd(residuals, full_matrices=False)
    variance = s ** 2 / max(len(features) - classes, 1)  # (min(N, D),) along each direction
    dims = features.shape[1]
    rank = min(rank, len(variance) - 1)
    residual = float(variance[rank:].sum() / (dims - rank))  # zeros beyond N count too
    check = DomainCheck(means.float(), vh[:rank].float(), variance[:rank].float(), residual,
                        threshold=1.0, input_ranges={
                            k: (float(v.min()), float(v.max())) for k, v in clips_stats.items()},
                        description=description)
    heldout = check.feature_distance(heldout_features)
    check.threshold = float(torch.quantile(heldout, quantile)) * margin
    check.info = {"rank": rank, "quantile": quantile, "margin": margin,
                  "train_views": len(features), "heldout_views": len(heldout_features),
                  "train_distance_median": float(check.feature_distance(features.float())
                                                 .median()),
                  "heldout_distance_median": float(heldout.median()),
                  "heldout_distance_max": float(heldout.max())}
    return check
