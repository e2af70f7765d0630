"""The domain check's arithmetic: the low-rank Mahalanobis distance, the threshold, the input
statistics, the features it reads, and its round trip through a weights-only file."""

from __future__ import annotations

import torch

from slowfast_edu import build_model
from slowfast_edu.models import DomainCheck
from slowfast_edu.models.domain import capture_pooled_features, fit_domain, input_statistics

from ..conftest import randomize_bn


def _gaussian(n: int, dims: int, classes: int, noise_seed: int = 0):
    """n points of classes with their own means and one shared, correlated covariance (the same
    world for every `noise_seed`): (X (n, dims), y (n,))."""
    g = torch.Generator().manual_seed(0)
    mixing = torch.randn(dims, dims, generator=g) / dims ** 0.5 + torch.eye(dims)
    means = 3 * torch.randn(classes, dims, generator=g)
    y = torch.arange(n) % classes
    noise = torch.randn(n, dims, generator=torch.Generator().manual_seed(1000 + noise_seed))
    return (means[y] + noise @ mixing.T).double(), y


def _stats(n: int) -> dict[str, torch.Tensor]:
    return {"brightness": torch.linspace(-1, 1, n), "contrast": torch.zeros(n),
            "motion": torch.linspace(-2, -1, n)}


def test_the_low_rank_distance_is_the_mahalanobis_distance_when_the_rank_is_full():
    x, y = _gaussian(4000, 8, 3)
    check = fit_domain(x, y, _stats(4000), x[:100], rank=8)  # keeps 7 directions + 1 variance
    means = torch.stack([x[y == c].mean(0) for c in range(3)])
    residual = x - means[y]
    covariance = residual.T @ residual / (len(x) - 3)  # shared, within-class
    probe = x[:50] + 0.5
    d2 = torch.stack([((probe - m) @ torch.linalg.inv(covariance) * (probe - m)).sum(1)
                      for m in means]).min(0).values / 8
    assert torch.allclose(check.feature_distance(probe.float()).double(), d2, rtol=1e-3)
    assert abs(float(check.feature_distance(x.float()).mean()) - 1) < 0.05  # ~1 per dimension


def test_held_out_points_pass_and_shifted_ones_do_not():
    x, y = _gaussian(3000, 64, 4)
    held, _ = _gaussian(400, 64, 4, noise_seed=1)  # the same world, other points
    check = fit_domain(x, y, _stats(3000), held, rank=16)
    assert check.info["rank"] == 16 and check.info["heldout_views"] == 400
    quiet = {k: v[:400] for k, v in _stats(3000).items()}
    inside = check.score(held.float(), quiet)
    assert float(inside.inside.float().mean()) >= 0.99  # 1.25 x the 99th percentile
    far = check.score(held.float() + 2.0, quiet)  # every feature shifted by 2 standard units
    assert bool((~far.inside).all()) and bool((far.features > inside.features.max()).all())


def test_input_statistics_reject_flat_and_wild_clips():
    x, y = _gaussian(500, 8, 2)
    g = torch.Generator().manual_seed(0)
    train = torch.randn(40, 3, 8, 16, 16, generator=g) * 0.8  # textured, changing clips
    check = fit_domain(x, y, input_statistics(train), x[:50])
    assert bool((check.input_distance(train) == 0).all())
    flat = torch.full((1, 3, 8, 16, 16), -1.0)  # a flat colour: no contrast, no motion
    stats = input_statistics(flat)
    assert float(stats["contrast"]) < -6 and float(stats["motion"]) < -6
    wild = torch.randn(1, 3, 8, 16, 16, generator=g) * 5  # far more contrast and motion
    assert float(check.input_distance(flat)) > 1 and float(check.input_distance(wild)) > 1
    assert float(check.score(x[:1].float(), flat).score) > 1  # whatever its features say


def test_the_check_reads_the_classifiers_input_and_survives_a_weights_only_file(tmp_path):
    model = randomize_bn(build_model("slowfast_tiny", num_classes=4)).eval()
    inputs = [torch.randn(2, 3, 4, 32, 32), torch.randn(2, 3, 16, 32, 32)]
    with torch.no_grad(), capture_pooled_features(model) as pooled:
        logits = model(inputs)
    assert len(pooled) == 1 and pooled[0].shape == (2, 1152)
    assert torch.allclose(model.head.proj(pooled[0]), logits, atol=1e-5)
    assert not model.head.proj._forward_pre_hooks  # the hook is gone afterwards

    x, y = _gaussian(300, 8, 2)
    check = fit_domain(x, y, _stats(300), x[:30], description="eight numbers")
    torch.save({"domain": check.state()}, tmp_path / "check.pt")
    again = DomainCheck.from_state(torch.load(tmp_path / "check.pt", weights_only=True)["domain"])
    assert again.description == "eight numbers" and again.threshold == check.threshold
    assert torch.equal(again.feature_distance(x[:5].float()), check.feature_distance(x[:5].float()))
    assert again.input_ranges == check.input_ranges and again.info == check.info
