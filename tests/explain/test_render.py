"""Overlays, the time-aligned grid, side-by-side animation frames, GIF and MP4 files."""

from __future__ import annotations

import av
import matplotlib
import numpy as np
import torch
from PIL import Image

from slowfast_edu import pack_pathways
from slowfast_edu.data.transforms import MEAN, STD
from slowfast_edu.explain.render import (colorize, frame_times, grid_figure, overlay,
                                         pathway_overlays, save_gif, save_mp4, side_by_side,
                                         slow_positions, to_frames)

matplotlib.use("Agg")


def _frames(t: int, h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def test_overlay_blends_the_colour_map_at_alpha():
    frames = _frames(3)
    cam = np.random.default_rng(1).random((3, 24, 32))
    out = overlay(frames, cam)
    assert out.shape == frames.shape and out.dtype == np.uint8
    jet = matplotlib.colormaps["jet"](cam[1, 5, 7])[:3]
    expected = 0.5 * frames[1, 5, 7] + 0.5 * np.round(np.array(jet) * 255)
    assert np.abs(out[1, 5, 7].astype(float) - expected).max() <= 0.5
    assert np.array_equal(overlay(frames, cam, alpha=0.0), frames)
    assert np.array_equal(overlay(frames, torch.tensor(cam)[None], "inferno", 1.0),
                          colorize(cam, "inferno"))  # a (1, T, H, W) tensor works too


def test_to_frames_undoes_the_normalisation():
    pixels = _frames(4)
    clip = (torch.from_numpy(pixels).permute(3, 0, 1, 2).float() / 255 - MEAN[0]) / STD[0]
    assert np.array_equal(to_frames(clip), pixels)


def test_slow_frames_sit_at_the_fast_frames_pack_pathways_picks():
    assert slow_positions(8, 32).tolist() == [0, 4, 8, 13, 17, 22, 26, 31]
    fast = torch.arange(16.0).view(1, 16, 1, 1).expand(3, 16, 2, 2)  # frame i holds the value i
    slow, _ = pack_pathways(fast, 4)
    assert slow[0, :, 0, 0].long().tolist() == slow_positions(4, 16).tolist() == [0, 5, 10, 15]
    assert np.allclose(frame_times(4, fps=30, sampling_rate=2), [0, 1 / 15, 2 / 15, 3 / 15])


def test_grid_puts_both_pathways_on_one_timeline(tmp_path):
    images = {"slow": _frames(4, seed=1), "fast": _frames(16, seed=2)}
    fig = grid_figure(images, frame_times(16, 30, 2), title="clip")
    axes = np.array(fig.axes).reshape(2, 16)
    with_image = [[bool(ax.images) for ax in row] for row in axes]
    assert [i for i, shown in enumerate(with_image[0]) if shown] == [0, 5, 10, 15]
    assert all(with_image[1])
    assert np.array_equal(axes[0, 10].images[0].get_array(), images["slow"][2])
    assert axes[0, 5].get_title() == axes[1, 5].get_title() == "0.33 s"  # 5 * 2 / 30
    fig.savefig(tmp_path / "grid.png", dpi=50)
    with Image.open(tmp_path / "grid.png") as png:
        assert png.size[0] > 4 * png.size[1] > 0  # wide: 16 columns, 2 rows


def test_side_by_side_shows_the_nearest_slow_frame_beside_each_fast_frame():
    images = {"slow": _frames(4, seed=1), "fast": _frames(16, seed=2)}
    frames = side_by_side(images, gap=4)
    assert frames.shape == (16, 24, 32 + 4 + 32, 3) and frames.dtype == np.uint8
    for t, slow_index in ((0, 0), (2, 0), (3, 1), (7, 1), (8, 2), (13, 3), (15, 3)):
        assert np.array_equal(frames[t, :, :32], images["slow"][slow_index]), t
        assert np.array_equal(frames[t, :, 36:], images["fast"][t])
    assert (frames[:, :, 32:36] == 255).all()


def test_pathway_overlays_of_one_clip_of_a_batch():
    clips = {"slow": torch.zeros(2, 3, 2, 8, 8), "fast": torch.zeros(2, 3, 8, 8, 8)}
    cams = {"slow": torch.rand(2, 1, 2, 8, 8), "fast": torch.rand(2, 1, 8, 8, 8)}
    images = pathway_overlays(clips, cams, index=1, cmap="inferno")
    assert images["slow"].shape == (2, 8, 8, 3) and images["fast"].shape == (8, 8, 8, 3)
    assert np.array_equal(images["fast"], overlay(to_frames(clips["fast"][1]),
                                                  cams["fast"][1, 0], "inferno"))


def test_gif_and_mp4_are_written_and_read_back(tmp_path):
    frames = _frames(12, h=23, w=31)  # odd sizes: the MP4 pads to even
    gif = save_gif(frames, tmp_path / "a.gif", fps=5)
    with Image.open(gif) as image:
        assert image.n_frames == 12 and image.size == (31, 23)
        assert image.info["duration"] == 200
    mp4 = save_mp4(frames, tmp_path / "a.mp4", fps=5)
    with av.open(str(mp4)) as container:
        stream = container.streams.video[0]
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.average_rate == 5
    assert len(decoded) == 12 and decoded[0].shape == (24, 32, 3)
