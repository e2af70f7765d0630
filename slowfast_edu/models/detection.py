"""The detector of the paper's Section 5 (AVA): the SlowFast backbone with a region-of-interest
head.

Spatiotemporal action detection asks, for each person box of a clip's key frame (the middle
frame), which actions that person is doing: several at once (standing, talking to, watching), so
each class is a yes/no question answered by its own sigmoid. The network is the classification
network with two changes:

- res5 keeps res4's spatial size: stride 1 instead of 2, its 3 x 3 convs dilated by 2 so that they
  see as far (`res5_dilation=2` in the config). The features are then at 1/16 of the input, twice
  as fine as usual: a 224-pixel frame gives a 14 x 14 map, on which a person box still covers
  several cells.
- the head (`RoIHead`, registered as "detection"): each pathway's res5 features are averaged over
  time, the key frame's boxes are replicated over that one time step, RoIAlign (torchvision's
  `roi_align`, 7 x 7, `aligned=False` as both references) crops each box out of each pathway's
  map, a spatial max pool makes one vector per box and pathway, the pathways are concatenated
  (2048 + 256 = 2304 for R50), then dropout, a linear layer, and one sigmoid per class.

The network is called with the clips and the boxes, `model([slow, fast], boxes)`: `boxes` is
(K, 5), one row (clip index in the batch, x1, y1, x2, y2) per box, in pixels of the input frames
(the convention of PyTorchVideo's `slowfast_r50_detection` and of torchvision's `roi_align`); the
output is (K, num_classes), one row of scores per box. Without boxes, each clip is one box
covering its whole frame (what `count_flops` and a quick look need).

The scores are logits, at training and at test time alike; `model.head.probabilities(logits)` is
their sigmoid. PyTorchVideo's and PySlowFast's detectors instead apply the sigmoid inside the
head, in both modes (their losses take probabilities: PySlowFast trains AVA with `nn.BCELoss`).
Logits let the loss be `binary_cross_entropy_with_logits`, which is exact where a sigmoid
saturates; the parity tests compare our sigmoid with their output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align

from .head import HEADS, Head

if TYPE_CHECKING:
    from .config import SlowFastConfig

ROI_SIZE = 7  # RoIAlign output, 7 x 7 cells per box (both references)


def feature_stride(cfg: SlowFastConfig) -> int:
    """Input pixels per cell of res5's map: 2 (conv1) x 2 (pool1) x 2 (res3) x 2 (res4), x 2 more
    for a stride-2 res5: 16 for the paper's detector (and 8 without pool1)."""
    return 2 * (2 if cfg.pool1 else 1) * 2 * 2 * (2 if cfg.res5_dilation == 1 else 1)


def check_boxes(boxes: object, num_clips: int) -> torch.Tensor:
    """`boxes` as the head takes it, (K, 5) float, or an error that says what it should be."""
    expected = ("boxes must be a (K, 5) tensor, one row (clip index, x1, y1, x2, y2) per box, "
                "in pixels of the input frames")
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"{expected}; got a {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[1] != 5:
        hint = (" (boxes of one clip? prepend its index: torch.cat([torch.zeros(K, 1), boxes], 1))"
                if boxes.dim() == 2 and boxes.shape[1] == 4 else "")
        raise ValueError(f"{expected}; got shape {tuple(boxes.shape)}{hint}")
    if not boxes.is_floating_point():
        boxes = boxes.float()
    if boxes.device.type == "meta":  # shapes only (describe, count_flops on "meta")
        return boxes
    index = boxes[:, 0]
    if len(boxes) and (bool((index != index.round()).any()) or index.min() < 0
                       or index.max() >= num_clips):
        raise ValueError(f"the first column of boxes is the clip index in the batch, 0 to "
                         f"{num_clips - 1}; got values {sorted(set(index.tolist()))[:10]}")
    if len(boxes) and bool((boxes[:, 3] < boxes[:, 1]).any() | (boxes[:, 4] < boxes[:, 2]).any()):
        raise ValueError("boxes are (clip index, x1, y1, x2, y2) with x1 <= x2 and y1 <= y2; "
                         "some have x2 < x1 or y2 < y1 (are they (x, y, width, height)?)")
    return boxes


@HEADS.register("detection")
class RoIHead(Head):
    """Per pathway: temporal mean, RoIAlign of the boxes, spatial max; concat, dropout, linear.

    Input: the pathways' res5 features (B, C_p, T_p, H, W), Slow first, and `boxes` (K, 5);
    output: logits (K, num_classes). `spatial_scale` maps input pixels to the first pathway's
    feature cells (1/16 for the paper's detector); a pathway whose map is smaller (a Fast input
    at half resolution) is scaled by the ratio of the map widths.
    """

    checkpoint_layers = {"proj": ("proj", "projection")}
    takes_boxes = True

    def __init__(self, in_channels: list[int], num_classes: int, dropout: float = 0.5,
                 spatial_scale: float = 1 / 16, roi_size: int = ROI_SIZE) -> None:
        super().__init__()
        self.spatial_scale, self.roi_size = spatial_scale, roi_size
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(sum(in_channels), num_classes)

    @classmethod
    def build(cls, cfg: SlowFastConfig, in_channels: list[int]) -> RoIHead:
        return cls(in_channels, cfg.num_classes, cfg.dropout, 1 / feature_stride(cfg))

    def pool(self, features: list[torch.Tensor], boxes: torch.Tensor | None = None
             ) -> torch.Tensor:
        """One vector per box: (K, sum C_p), the input of the linear layer."""
        b, _, _, h, w = features[0].shape
        if boxes is None:  # one box per clip, the whole frame
            frame = torch.tensor([0.0, 0.0, w / self.spatial_scale, h / self.spatial_scale])
            boxes = torch.cat([torch.arange(b, dtype=torch.float)[:, None],
                               frame.expand(b, 4)], dim=1)
        boxes = check_boxes(boxes, b).to(features[0].device, features[0].dtype)
        pooled = []
        for f in features:
            # the key frame's boxes are the same at every time step: averaging the features over
            # time first is the same as RoIAlign at each step and then averaging (both linear)
            f = F.avg_pool3d(f, kernel_size=(f.shape[2], 1, 1)).squeeze(2)  # (B, C, H', W')
            scale = self.spatial_scale * f.shape[-1] / w  # 1/16; half for a half-size pathway
            rois = roi_align(f, boxes, self.roi_size, spatial_scale=scale, sampling_ratio=0,
                             aligned=False)  # (K, C, 7, 7)
            pooled.append(rois.amax(dim=(2, 3)))  # spatial max pooling: (K, C)
        return torch.cat(pooled, dim=1)  # (K, sum C_p)

    def forward(self, features: list[torch.Tensor], boxes: torch.Tensor | None = None
                ) -> torch.Tensor:
        return self.proj(self.dropout(self.pool(features, boxes)))  # (K, num_classes)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Scores -> probabilities: one sigmoid per class (a person does several things at once)."""
        return logits.sigmoid()

    def describe(self) -> str:
        scale = round(1 / self.spatial_scale)
        return (f"per box: temporal mean, RoIAlign {self.roi_size}x{self.roi_size} at 1/{scale}, "
                f"spatial max; concat, dropout {self.dropout.p}, "
                f"fc {self.proj.in_features} -> {self.proj.out_features}, sigmoid")
