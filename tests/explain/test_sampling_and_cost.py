"""The first notebooks' pictures and widgets: the sampling of one view as T, tau and alpha change
(notebook 01) and the cost calculator (notebook 04)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from slowfast_edu.data import pack_pathways
from slowfast_edu.explain.cost import cost_table, network_cost
from slowfast_edu.explain.sampling_view import frame_grid, sampling_figure, view_frames
from slowfast_edu.explain.widgets import cost_calculator, sampling_explorer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("T, tau, alpha", [(8, 8, 4), (4, 16, 8), (3, 6, 2)])
def test_view_frames_are_what_the_pipeline_samples(T, tau, alpha):
    fast, slow = view_frames(T, tau, alpha)
    assert len(fast) == alpha * T and fast[0] == 0 and fast[-1] == T * tau - 1
    kept, _ = pack_pathways(fast.float().view(1, -1, 1, 1), alpha)
    assert torch.equal(slow, kept.flatten().long())
    with pytest.raises(ValueError, match="must be positive"):
        view_frames(0, tau, alpha)


def test_sampling_figure_and_frame_grid():
    frames = np.zeros((80, 12, 16, 3), np.uint8)
    fig = sampling_figure(8, 8, 4, frames, fps=30.0)
    assert len(fig.axes) == 1 + 8  # the time line (its seconds axis is a child), 8 Slow pictures
    assert "window of 64 frames = 2.13 s" in fig.axes[0].get_title()
    assert len(sampling_figure(16, 4, 2, frames, max_pictures=6).axes) == 1 + 6
    grid = frame_grid(frames[:32], np.arange(32) / 30, [0, 4, 8], columns=8)
    titles = [ax.get_title() for ax in grid.axes]
    assert len(grid.axes) == 32 and titles[4].startswith("Slow + Fast 4") and \
        titles[5].startswith("Fast 5")


def test_sampling_explorer_redraws_and_refuses_a_fractional_stride():
    box = sampling_explorer(None, fps=30.0)
    assert bytes(box.image.value).startswith(b"\x89PNG")
    assert "window: 64 frames" in box.caption.value
    box.controls["tau"].value = 16
    assert "Fast: 32 frames, one every 4" in box.caption.value
    box.controls["alpha"].value = 16
    box.controls["tau"].value = 8
    assert "not a multiple of alpha=16" in box.caption.value


def test_network_cost_splits_the_reference_numbers_by_part():
    cost = network_cost("slowfast_4x16_r50", size=256)
    assert cost["params"] == 34_480_216 and abs(cost["gflops"] - 36.10) < 0.005
    parts = cost["parts"]
    assert sum(p["gflops"] for p in parts.values()) == pytest.approx(cost["gflops"])
    assert sum(p["params"] for p in parts.values()) == cost["params"]
    assert 0.15 < parts["fast"]["gflops"] / cost["gflops"] < 0.25  # "about 20%" (Sec. 3.2)
    none = network_cost("slowfast_4x16_r50", size=256, fusion="none")
    assert none["parts"]["laterals"] == {"params": 0, "gflops": 0}
    assert network_cost("slow_4x16_r50", size=256)["gflops"] == pytest.approx(27.26, abs=0.005)
    assert "| **total** | **34,480,216** | **36.10** |" in cost_table(cost)


def test_cost_calculator_follows_its_controls():
    box = cost_calculator("slowfast_tiny", size=64, diagram=False)
    assert "1.00x the parameters" in box.table.value
    box.controls["beta_inv"].value = 4
    assert "beta_inv': 4" in box.table.value and "1.00x the GFLOPs" not in box.table.value
    box.controls["fusion"].value = "time_to_channel_sum"  # alpha = 4 = 1/beta: it can be built
    assert "cannot be built" not in box.table.value
    box.controls["beta_inv"].value = 8  # alpha * beta = 1/2: it cannot
    assert "cannot be built" in box.table.value and "time_to_channel_sum" in box.table.value
    drawn = cost_calculator("slowfast_tiny", size=64)
    assert bytes(drawn.picture.value).startswith(b"\x89PNG")
