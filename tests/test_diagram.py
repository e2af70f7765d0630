"""slowfast_edu.draw: the paper's Figure 1 from the built network, measured, redrawn on a change."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import slowfast_edu as se
from slowfast_edu.diagram import diagram_image, measure

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_table_1_measured_stage_by_stage():
    layout = measure("slowfast_4x16_r50")
    assert [s.name for s in layout.stages] == ["conv1", "pool1", "res2", "res3", "res4", "res5"]
    shapes = {s.name: s.shapes for s in layout.stages}
    assert shapes["res2"] == {"slow": (256, 4, 56, 56), "fast": (32, 32, 56, 56)}
    assert shapes["res5"] == {"slow": (2048, 4, 7, 7), "fast": (256, 32, 7, 7)}
    assert [lat.after for lat in layout.laterals] == ["pool1", "res2", "res3", "res4"]
    assert [lat.slow_out[0] for lat in layout.laterals] == [80, 320, 640, 1280]
    assert all("T-conv 5x1x1" in lat.text and "stride 8" in lat.text for lat in layout.laterals)
    assert layout.inputs == {"slow": (3, 4, 224, 224), "fast": (3, 32, 224, 224)}
    assert layout.num_laterals == 4 and "fc 2304 -> 400" in layout.head


def test_the_figure_shows_the_measurements_and_redraws_for_other_settings():
    fig = se.draw("slowfast_4x16_r50")
    assert isinstance(fig, Figure)
    text = _texts(fig)
    assert "4x56²\nC=256" in text and "32x56²\nC=32" in text and "Slow C=1280" in text
    assert "alpha=8" in fig.axes[0].get_title()
    other = _texts(se.draw("slowfast_4x16_r50", alpha=4, fusion="time_strided_sample"))
    assert "16x56²\nC=32" in other and "T-sample" in other and "T-conv" not in other
    none = _texts(se.draw("slowfast_tiny", fusion="none"))
    assert "no lateral connections" in none and "T-conv" not in none
    slow_only = measure("slow_tiny")
    assert slow_only.pathways == ["slow"] and slow_only.laterals == []


def test_a_built_model_is_measured_on_a_copy_and_left_as_it_was():
    model = se.build_model("slowfast_tiny", num_classes=6)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    layout = measure(model, size=48)
    assert layout.stages[-1].shapes["fast"] == (128, 16, 3, 3)  # res5: stride 1, dilation 2
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    with torch.device("meta"):
        meta = se.build_model("slowfast_tiny")
    assert measure(meta).stages[2].shapes["slow"] == (128, 4, 16, 16)
    with pytest.raises(TypeError, match="overrides apply to a preset name"):
        measure(model, alpha=2)


def test_the_image_for_the_app():
    image = diagram_image(se.load_default_model(), dpi=60)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] > image.shape[0] > 150
    assert (image < 200).any() and (image > 250).any()  # drawn boxes on a white page
