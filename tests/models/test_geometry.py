"""The clip each preset wants, against the paper: Table 1 (4 Slow frames at tau=16, 32 Fast frames
at stride 2), the "T x tau" names of Table 2 and its 30-view testing (Sec. 4: short side 256, crops
of 256), and the model zoos' configs (8x8 and 16x8 with alpha=4)."""

import pytest

from slowfast_edu.models import clip_geometry, get_config


@pytest.mark.parametrize("name, frames, stride, slow, test_side", [
    ("slowfast_4x16_r50", 32, 2, 4, 256),  # Table 1: 4 Slow frames at tau=16, Fast 32 at 2
    ("slowfast_8x8_r50", 32, 2, 8, 256),  # 8x8: Fast 32 frames at stride 2, alpha = 4
    ("slowfast_16x8_r101", 64, 2, 16, 256),  # 16x8: Fast 64 frames at stride 2
    ("slow_8x8_r50", 32, 2, 8, 256),  # fed the same 64-frame window as SlowFast 8x8
    ("slowfast_tiny", 16, 1, 4, 64),  # teaching size: tested at its own 64-pixel crop
])
def test_each_preset_gets_the_papers_view(name, frames, stride, slow, test_side):
    g = clip_geometry(get_config(name))
    assert (g.num_frames, g.sampling_rate, g.slow_frames) == (frames, stride, slow)
    assert (g.test_short_side, g.test_crop_size) == (test_side, test_side)
    assert g.num_frames * g.sampling_rate == g.slow_frames * g.tau  # one window, T x tau frames


def test_8x8_spans_about_two_seconds():
    assert clip_geometry(get_config("slowfast_8x8_r50")).seconds == pytest.approx(64 / 30)
