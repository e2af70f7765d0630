"""Heads: what turns the pathways' last features into predictions. Each kind is a class in the
`HEADS` registry (see registry.py); `cfg.head` names one.

The paper's head for clip classification (Table 1's last row): global average pooling of each
pathway, concatenation (2048 + 256 = 2304 for R50), dropout, a linear classifier, softmax. A head
takes the list of the pathways' res5 features, Slow first, and any extra inputs the network is
called with after the clips (`model([slow, fast], *head_inputs)`; a detection head's boxes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .registry import Registry

if TYPE_CHECKING:
    from .config import SlowFastConfig


class Head(nn.Module):
    """Base class of the heads: pathway features in, one score per class out."""

    # its layers' names in the reference checkpoints: {ours: (PyTorchVideo, PySlowFast)}
    checkpoint_layers: dict[str, tuple[str | None, str | None]] = {}
    # True for a head that is called with the key frame's boxes, `model([slow, fast], boxes)`
    # (detection.py); PyTorchVideo then keeps the backbone under `model.` and the head under
    # `detection_head.` in its checkpoints, instead of as the last of its `blocks.`
    takes_boxes = False

    @classmethod
    def build(cls, cfg: SlowFastConfig, in_channels: list[int]) -> Head:
        """The head of a network of config `cfg` whose pathways end with `in_channels`."""
        raise NotImplementedError

    def describe(self) -> str:
        """Its row of Table 1."""
        return type(self).__name__

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Scores -> probabilities: a softmax over the classes (one label per clip)."""
        return logits.softmax(dim=-1)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The training loss its scores are made for: cross-entropy with class ids (B,)."""
        return F.cross_entropy(logits, targets)

    def fold_for_inference(self, fuse_relu: bool = True) -> nn.Module:
        """The module to run at test time; without BatchNorm, itself."""
        return self


HEADS = Registry("head", Head)


@HEADS.register("classification")
class ClassificationHead(Head):
    """Pool each pathway over all of T x H x W, concatenate, dropout, linear: logits (B, K).

    The reference implementations pool with a fixed 7 x 7 window sized for 224-pixel crops; the
    global mean here gives the same result at 224 and adapts to any clip length and frame size.
    `proj` is named as PyTorchVideo's `blocks.6.proj`, and other code reads its input with a hook.
    """

    checkpoint_layers = {"proj": ("proj", "projection")}

    def __init__(self, in_channels: list[int], num_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(sum(in_channels), num_classes)

    @classmethod
    def build(cls, cfg: SlowFastConfig, in_channels: list[int]) -> ClassificationHead:
        return cls(in_channels, cfg.num_classes, cfg.dropout)

    def pool(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Global average pooling of each pathway, concatenated: (B, sum C_p)."""
        # a pooling window as large as the whole map: global, for any T, H, W. It sums in the
        # order of the references' fixed 7 x 7 window at 224; the parity tests check the logits
        # to 1e-5 (tests/models/test_reference_parity.py)
        pooled = [F.avg_pool3d(f, kernel_size=f.shape[2:]).flatten(1) for f in features]  # (B, C)
        return torch.cat(pooled, dim=1)  # (B, sum C_p)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        return self.proj(self.dropout(self.pool(features)))  # (B, num_classes)

    def describe(self) -> str:
        return (f"global average pool, concat, dropout {self.dropout.p}, "
                f"fc {self.proj.in_features} -> {self.proj.out_features}")


@HEADS.register("multilabel")
class MultiLabelHead(ClassificationHead):
    """The classification head read as K yes/no questions: a sigmoid per class, not a softmax.

    For multi-label sets, where a clip may show several classes at once (Charades, the paper's
    Table 4: 157 classes, mAP; our `data.synthetic_multilabel`). The layers are the same as the
    classification head's (and named the same in the checkpoints: a Kinetics head converts, then
    is replaced for the new classes); what changes is what the scores mean: `probabilities` is a
    sigmoid per class and `loss` a binary cross-entropy against multi-hot targets (B, K), as
    PySlowFast trains Charades (`bce_logit`, head activation sigmoid).
    """

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Scores -> an independent probability per class (they need not sum to 1)."""
        return logits.sigmoid()

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of every class against multi-hot targets (B, K) in [0, 1]."""
        if targets.shape != logits.shape:
            raise ValueError(f"a multi-label head takes multi-hot targets shaped like its scores "
                             f"{tuple(logits.shape)}, got {tuple(targets.shape)}")
        return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))

    def describe(self) -> str:
        return super().describe() + ", sigmoid per class"
