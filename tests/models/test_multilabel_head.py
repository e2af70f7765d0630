"""The multi-label head: the classification head's layers read as one yes/no per class (sigmoid,
binary cross-entropy), selected by `head="multilabel"` on any preset."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import slowfast_edu as se
from slowfast_edu.models import HEADS
from slowfast_edu.models.convert import convert_state_dict
from slowfast_edu.models.head import ClassificationHead, MultiLabelHead

from ..conftest import randomize_bn

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone


def test_build_model_with_a_multilabel_head():
    model = se.build_model("slowfast_tiny", num_classes=6, head="multilabel")
    assert HEADS["multilabel"] is MultiLabelHead and isinstance(model.head, MultiLabelHead)
    assert model.head.proj.out_features == 6
    rows = {r.stage: r for r in se.describe(model, se.example_inputs(model.cfg, 32))}
    assert rows["head"].slow == ("global average pool, concat, dropout 0.5, fc 1152 -> 6, "
                                 "sigmoid per class")
    single = se.build_model("c2d_tiny", num_classes=157, head="multilabel")  # Charades' 157
    assert isinstance(single.head, MultiLabelHead) and single.head.proj.out_features == 157


def test_probabilities_and_losses():
    model = se.build_model("slowfast_tiny", num_classes=4, head="multilabel").eval()
    logits = torch.tensor([[2.0, -1.0, 0.0, 3.0], [-2.0, 0.5, 1.0, -3.0]])
    targets = torch.tensor([[1.0, 0, 0, 1], [0, 1, 1, 0]])
    probs = model.head.probabilities(logits)
    assert torch.equal(probs, logits.sigmoid()) and not torch.allclose(probs.sum(1), torch.ones(2))
    assert model.head.loss(logits, targets) == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, targets).item())
    assert model.head.loss(logits, targets.long()).dtype == torch.float32  # ints are taken too
    with pytest.raises(ValueError, match=r"multi-hot targets shaped like its scores \(2, 4\)"):
        model.head.loss(logits, torch.tensor([0, 3]))  # class ids: the classification head's
    classifier = se.build_model("slowfast_tiny", num_classes=4).head
    assert type(classifier) is ClassificationHead
    assert classifier.loss(logits, torch.tensor([3, 2])) == pytest.approx(
        F.cross_entropy(logits, torch.tensor([3, 2])).item())
    assert torch.allclose(classifier.probabilities(logits).sum(1), torch.ones(2))


def test_it_trains_folds_and_converts_like_the_classification_head():
    torch.manual_seed(0)
    model = se.build_model("slowfast_tiny", num_classes=5, head="multilabel").train()
    inputs = se.example_inputs(model.cfg, 32, batch_size=2)
    targets = torch.tensor([[1.0, 0, 1, 0, 0], [0, 1, 0, 0, 1]])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(3):
        loss = model.head.loss(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model = randomize_bn(model).eval()
    with torch.inference_mode():
        assert (se.optimize_for_inference(model)(list(inputs)) - model(inputs)).abs().max() < 1e-4
    names = set(convert_state_dict(model.state_dict(), "slowfast_edu", "pyslowfast"))
    assert {"head.projection.weight", "head.projection.bias"} <= names
