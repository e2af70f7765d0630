"""The person detector of the Detect tab: offered only when its weights are in the torch cache,
never downloaded; both branches, with a temporary TORCH_HOME (and random weights of the smallest
detector saved where torch keeps the real ones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models import detection

from slowfast_edu.app import people
from slowfast_edu.app.people import (PersonDetector, cached_person_detector, missing_note,
                                     people_boxes, weights_file)

SMALLEST = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch cache of our own; any download attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def download(url, *args, **kwargs):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    return tmp_path / "torch"


def test_no_weights_in_the_cache_no_person_detector(torch_home):
    assert cached_person_detector() is None
    assert all(not weights_file(name).exists() for name in people.CANDIDATES)
    assert str(torch_home / "hub" / "checkpoints") in missing_note()
    assert "never downloads" in missing_note()


def test_weights_in_the_cache_are_found_and_loaded_without_a_download(torch_home):
    file = weights_file(SMALLEST)
    assert file.parent == torch_home / "hub" / "checkpoints"
    file.parent.mkdir(parents=True)
    torch.manual_seed(0)
    random = detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None,
                                                             weights_backbone=None)
    torch.save(random.state_dict(), file)  # where torchvision's download would put the real ones
    finder = cached_person_detector()
    assert isinstance(finder, PersonDetector) and finder.name == SMALLEST
    boxes = finder(np.zeros((48, 64, 3), np.uint8))
    assert boxes.dtype == torch.float32 and boxes.shape[1] == 4  # random weights: maybe none
    file.unlink()  # gone after it was offered: an error, not a download
    with pytest.raises(FileNotFoundError, match="never downloads"):
        PersonDetector(SMALLEST).model()


def test_only_people_above_the_threshold_are_kept_best_first():
    output = {"boxes": torch.tensor([[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 4, 4],
                                     [2, 2, 30, 30]], dtype=torch.float32),
              "labels": torch.tensor([1, 3, 1, 1]),  # person, car, person, person
              "scores": torch.tensor([0.85, 0.99, 0.5, 0.95])}
    assert people_boxes(output).tolist() == [[2, 2, 30, 30], [0, 0, 10, 10]]
    assert people_boxes(output, 0.9).tolist() == [[2, 2, 30, 30]]
    assert people_boxes({k: v[:0] for k, v in output.items()}).shape == (0, 4)


def texts(demo) -> list[str]:
    """The values of the page's components (buttons' and Markdown's texts)."""
    return [str(c.get("props", {}).get("value")) for c in demo.config["components"]]


def test_the_served_detect_tab_follows_this_machines_cache(app):
    offered = cached_person_detector() is not None  # no weights here: the note instead
    assert any("joins this tab once" in t for t in texts(app)) == (not offered)
    assert any(t.startswith("Find people") for t in texts(app)) == offered


def test_with_the_weights_the_detect_tab_offers_find_people(torch_home):
    from slowfast_edu.app.detection import detector_entry
    from slowfast_edu.app.menu import DEFAULT_LABEL, AppModel
    from slowfast_edu.app.ui import build_demo
    from slowfast_edu.models import load_model

    weights_file(SMALLEST).parent.mkdir(parents=True)
    weights_file(SMALLEST).write_bytes(b"")  # only its presence is checked when the page is made
    demo = build_demo(models={DEFAULT_LABEL: AppModel(DEFAULT_LABEL, load_model)},
                      detector=detector_entry())
    assert any(t.startswith(f"Find people: {SMALLEST}") for t in texts(demo))
    assert not any("joins this tab once" in t for t in texts(demo))
