"""A person detector for the Detect tab, offered only when its weights are already on this machine.

The paper scores the actions of people whose boxes come from an off-the-shelf detector (a Faster
R-CNN, boxes scoring at least 0.8 at test time). torchvision builds such detectors, trained on
COCO; their weights are a download (~75-170 MB) that the app never makes. So the Detect tab offers
*Find people* only when one of them is in torch's hub cache already (`torch.hub.get_dir()`,
`$TORCH_HOME/hub` when set, `checkpoints/`), where an earlier
`torchvision.models.detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")` leaves it; while none
is there the page says how to get one. It is built without weights and given the cached file, so
nothing can be fetched: a file removed meanwhile is an error, not a download.

    finder = cached_person_detector()    # None: no weights in the cache
    boxes = finder(frame)                # (K, 4) x1, y1, x2, y2 of the people, in its pixels
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torchvision.models import detection

SCORE_THRESHOLD = 0.8  # the paper's: person boxes scoring below are dropped
PERSON = 1  # "person" in the COCO labelling of torchvision's detectors
# the detectors tried, best first: (builder, its COCO weights)
CANDIDATES = {
    "fasterrcnn_resnet50_fpn_v2": detection.FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1,
    "fasterrcnn_resnet50_fpn": detection.FasterRCNN_ResNet50_FPN_Weights.COCO_V1,
    "fasterrcnn_mobilenet_v3_large_fpn":
        detection.FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1,
    "fasterrcnn_mobilenet_v3_large_320_fpn":
        detection.FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1,
}


def weights_file(name: str) -> Path:
    """Where torch's hub cache keeps the weights of detector `name` (whether or not they are)."""
    filename = Path(urlparse(CANDIDATES[name].url).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def people_boxes(detections: dict[str, torch.Tensor], threshold: float = SCORE_THRESHOLD
                 ) -> torch.Tensor:
    """The person boxes of a torchvision detector's output for one image ({"boxes", "labels",
    "scores"}) scoring at least `threshold`: (K, 4), best first."""
    keep = (detections["labels"] == PERSON) & (detections["scores"] >= threshold)
    order = detections["scores"][keep].argsort(descending=True)
    return detections["boxes"][keep][order].float().reshape(-1, 4)


class PersonDetector:
    """One of torchvision's COCO Faster R-CNNs, loaded from the cache on first use."""

    def __init__(self, name: str, threshold: float = SCORE_THRESHOLD) -> None:
        self.name, self.threshold = name, threshold
        self.file = weights_file(name)
        self._model: torch.nn.Module | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        """How the page names it."""
        return f"{self.name} (COCO, torchvision)"

    def model(self) -> torch.nn.Module:
        """The detector in eval mode (loaded once, never downloaded)."""
        with self._lock:
            if self._model is None:
                if not self.file.is_file():
                    raise FileNotFoundError(f"the app never downloads, and {self.file.name} is "
                                            f"no longer in the torch cache ({self.file.parent})")
                # built without weights (so nothing can be fetched), then given the cached ones
                classes = len(CANDIDATES[self.name].meta["categories"])
                model = getattr(detection, self.name)(weights=None, weights_backbone=None,
                                                      num_classes=classes)
                model.load_state_dict(torch.load(self.file, map_location="cpu",
                                                 weights_only=True))
                self._model = model.eval()
            return self._model

    @torch.no_grad()
    def __call__(self, frame: np.ndarray) -> torch.Tensor:
        """The people on a frame (H, W, 3) uint8: (K, 4) boxes in its pixels, best first."""
        model = self.model()
        with self._lock:
            image = torch.as_tensor(np.asarray(frame)).permute(2, 0, 1).float() / 255  # (3, H, W)
            return people_boxes(model([image])[0], self.threshold)


def cached_person_detector() -> PersonDetector | None:
    """The best detector of `CANDIDATES` whose weights are in the torch cache; None if none is."""
    for name in CANDIDATES:
        if weights_file(name).is_file():
            return PersonDetector(name)
    return None


def missing_note() -> str:
    """What the Detect tab says while no person detector's weights are here."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    return (f"*Find people* (a Faster R-CNN, as the paper's boxes come from) joins this tab once "
            f"torchvision's COCO weights are in {folder}; the app never downloads them. Online, "
            f"once: `python -c \"import torchvision; torchvision.models.detection."
            f"fasterrcnn_resnet50_fpn(weights='DEFAULT')\"`, then restart the app.")
