"""A fusion and a head added from this file alone, without editing the package: they build,
describe themselves in Table 1, fold for inference, convert to the reference layouts and train."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import slowfast_edu as se
from slowfast_edu.models import FAST_INPUTS, FUSIONS, HEADS
from slowfast_edu.models.convert import convert_state_dict
from slowfast_edu.models.fusion import LateralConnection, TimeStridedConv
from slowfast_edu.models.head import Head
from slowfast_edu.models.inference import fold_bn

from ..conftest import randomize_bn

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone


class TimeStridedMean(LateralConnection):
    """Average each group of alpha Fast frames, then a 1x1x1 conv to 2 beta C, BN and ReLU."""

    def __init__(self, fast_channels: int, alpha: int) -> None:
        super().__init__(fast_channels, alpha)
        self.conv = nn.Conv3d(fast_channels, 2 * fast_channels, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm3d(2 * fast_channels)
        self.relu = nn.ReLU()

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels

    def transform(self, fast: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool3d(fast, kernel_size=(self.alpha, 1, 1))  # (B, beta C, T, H, W)
        return self.relu(self.bn(self.conv(x)))  # (B, 2 beta C, T, H, W)

    def describe(self) -> str:
        return f"Fast->Slow mean of {self.alpha} frames, 1x1x1 conv {self.out_channels}, concat"

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        self.conv, self.bn = fold_bn(self.conv, self.bn), nn.Identity()
        return self


class MaxPoolHead(Head):
    """Global max pooling, BatchNorm of the pooled features, dropout, linear; sigmoid scores."""

    checkpoint_layers = {"proj": ("proj", "projection"), "bn": (None, "bn")}

    def __init__(self, in_channels: list[int], num_classes: int, dropout: float) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(sum(in_channels))
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(sum(in_channels), num_classes)

    @classmethod
    def build(cls, cfg, in_channels: list[int]) -> MaxPoolHead:
        return cls(in_channels, cfg.num_classes, cfg.dropout)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        pooled = torch.cat([f.amax(dim=(2, 3, 4)) for f in features], dim=1)  # (B, sum C)
        return self.proj(self.dropout(self.bn(pooled)))  # (B, K)

    def describe(self) -> str:
        fc = self.proj
        return f"global max pool, concat, BN, fc {fc.in_features} -> {fc.out_features}"

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.sigmoid()  # one yes/no per class

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        # linear(bn(x)) = (W * s) x + (W t + b), with bn(x) = s x + t
        s = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        t = self.bn.bias - self.bn.running_mean * s
        with torch.no_grad():
            self.proj.bias += self.proj.weight @ t
            self.proj.weight *= s
        self.bn = nn.Identity()
        return self


@pytest.fixture
def registered():
    FUSIONS.register("time_strided_mean", TimeStridedMean)
    HEADS.register("max_pool", MaxPoolHead)
    yield
    FUSIONS.unregister("time_strided_mean")
    HEADS.unregister("max_pool")


def _model():
    torch.manual_seed(0)
    return se.build_model("slowfast_tiny", num_classes=5, fusion="time_strided_mean",
                          head="max_pool")


def test_a_registered_fusion_and_head_build_and_describe_themselves(registered):
    model = _model()
    assert all(isinstance(m, TimeStridedMean) for m in model.laterals.values())
    assert isinstance(model.head, MaxPoolHead)
    assert model.slow.res2[0].conv_a.in_channels == 32 + 2 * 4  # slow C + 2 beta C
    rows = {r.stage: r for r in se.describe(model, se.example_inputs(model.cfg, 32))}
    assert rows["lateral pool1"].slow == "Fast->Slow mean of 4 frames, 1x1x1 conv 8, concat"
    assert rows["lateral pool1"].slow_out == (40, 4, 8, 8)  # 32 + 8 channels, T = 4
    assert rows["lateral res4"].slow_out == (512 + 128, 4, 2, 2)
    assert rows["head"].slow == "global max pool, concat, BN, fc 1152 -> 5"
    assert rows["head"].slow_out == (5,)


def test_they_fold_for_inference_with_the_same_outputs(registered):
    model = randomize_bn(_model()).eval()
    inputs = se.example_inputs(model.cfg, 32, batch_size=2)
    with torch.no_grad():
        expected = model(inputs)
    fast = se.optimize_for_inference(model)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm3d)) for m in fast.modules())
    with torch.inference_mode():
        assert (fast(list(inputs)) - expected).abs().max().item() <= 1e-4
    assert expected.std() > 1e-3  # randomised BNs: a non-trivial network
    probs = model.head.probabilities(expected)
    assert torch.equal(probs, expected.sigmoid())  # the head decides what its scores mean


def test_they_train_one_step(registered):
    model = _model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = se.example_inputs(model.cfg, 32, batch_size=2)
    targets = torch.tensor([[1.0, 0, 0, 1, 0], [0, 1, 0, 0, 0]])
    loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    after = model.state_dict()
    for key in ("laterals.pool1.conv.weight", "laterals.pool1.bn.running_mean", "head.bn.weight",
                "head.proj.weight", "slow.res2.0.bn_c.weight"):  # (bn_c = 0: conv_a gets none)
        assert not torch.equal(before[key], after[key]), key


def test_they_convert_to_the_reference_layout_and_back(registered):
    sd = _model().state_dict()
    theirs = convert_state_dict(sd, "slowfast_edu", "pyslowfast")
    assert "s1_fuse.conv_f2s.weight" in theirs and "s4_fuse.bn.running_var" in theirs
    assert "head.bn.weight" in theirs and "head.projection.weight" in theirs
    back = convert_state_dict(theirs, "pyslowfast")
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)
    with pytest.raises(ValueError, match="no place for the head layer 'bn'"):
        convert_state_dict(sd, "slowfast_edu", "pytorchvideo")


def test_names_are_valid_only_while_registered(registered):
    assert "time_strided_mean" in FUSIONS and "max_pool" in HEADS
    FUSIONS.unregister("time_strided_mean")
    try:
        with pytest.raises(ValueError, match="fusion must be one of 'time_strided_conv'.*'none'; "
                                             "got 'time_strided_mean'"):
            se.get_config("slowfast_tiny", fusion="time_strided_mean")
    finally:
        FUSIONS.register("time_strided_mean", TimeStridedMean)


def test_the_registries_list_the_papers_choices():
    assert list(FUSIONS) == ["time_strided_conv", "time_strided_sample", "time_to_channel_concat",
                             "time_to_channel_sum", "none"]
    assert list(FAST_INPUTS) == ["rgb", "gray", "time_diff", "half_res"]
    assert list(HEADS) == ["classification", "multilabel", "detection"]
    assert FUSIONS["time_strided_conv"] is TimeStridedConv


def test_registering_mistakes_are_refused():
    with pytest.raises(ValueError, match="fusion 'none' is already NoFusion"):
        FUSIONS.register("none", TimeStridedMean)
    with pytest.raises(TypeError, match="a head must be a subclass of Head"):
        HEADS.register("linear", nn.Linear)
    with pytest.raises(ValueError, match="head must be one of 'classification', 'multilabel', "
                                         "'detection'; "
                                         "got 'nope'"):
        HEADS.unregister("nope")


def test_a_class_that_cannot_fold_its_batchnorm_is_named(registered):
    class Unfoldable(TimeStridedMean):
        def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
            return self  # forgot its BN

    FUSIONS.register("unfoldable", Unfoldable)
    try:
        model = se.build_model("slowfast_tiny", fusion="unfoldable")
        with pytest.raises(TypeError, match=r"\['laterals.pool1.bn'.*fold_for_inference"):
            se.optimize_for_inference(model)
    finally:
        FUSIONS.unregister("unfoldable")
