"""Temporal sampling and spatial transforms follow the reference recipe."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.data.sampling import pack_pathways, sample_indices, window_length
from slowfast_edu.data import transforms as T


def test_pack_pathways_picks_slow_frames_by_linspace():
    clip = torch.arange(32.0).view(1, 32, 1, 1).expand(3, 32, 2, 2)
    slow, fast = pack_pathways(clip, 4)
    assert slow[0, :, 0, 0].tolist() == [0, 4, 8, 13, 17, 22, 26, 31]
    assert fast is clip
    batch = clip[None].expand(2, -1, -1, -1, -1)
    assert pack_pathways(batch, 8)[0].shape == (2, 3, 4, 2, 2)
    with pytest.raises(ValueError, match="30 frames.*not divisible by alpha=4"):
        pack_pathways(clip[:, :30], 4)


def test_window_spans_the_same_time_at_any_frame_rate():
    assert window_length(30, 32, 2) == 64  # 8x8: 32 frames at stride 2
    assert window_length(25, 32, 2) == pytest.approx(64 * 25 / 30)
    assert window_length(29.97, 32, 2) == pytest.approx(63.936)


def test_test_windows_are_uniform_and_train_windows_random():
    idx = [sample_indices(300, 30, 32, 2, clip_index=i, num_clips=10) for i in range(10)]
    starts = [int(i[0]) for i in idx]
    assert starts == [int(236 * i / 10) for i in range(10)]  # (300 - 64) * i / 10
    assert all(len(i) == 32 and int(i[-1] - i[0]) == 63 for i in idx)
    g = torch.Generator().manual_seed(0)
    random_starts = {int(sample_indices(300, 30, 32, 2, generator=g)[0]) for _ in range(20)}
    assert len(random_starts) > 10 and max(random_starts) <= 236


def test_short_clips_repeat_their_last_frame():
    idx = sample_indices(32, 30, 32, 2, clip_index=0)  # a 64-frame window on a 32-frame clip
    assert idx[0] == 0 and idx[-1] == 31 and (idx[16:] == 31).all()
    assert idx.tolist() == sorted(idx.tolist())


def test_train_transform_shapes_and_normalisation():
    torch.manual_seed(0)
    frames = torch.full((8, 240, 320, 3), 115, dtype=torch.uint8)  # 115/255 ~ 0.45
    out = T.train_transform()(frames)
    assert out.shape == (3, 8, 224, 224) and out.dtype == torch.float32
    assert out.abs().max() < 0.01  # (0.451 - 0.45) / 0.225
    small = T.train_transform(crop_size=64, min_short_side=64, max_short_side=80)(frames)
    assert small.shape == (3, 8, 64, 64)


def test_train_transform_flips_at_random():
    frames = torch.zeros((2, 256, 256, 3), dtype=torch.uint8)
    frames[:, :, :128] = 255  # left half white
    t = T.train_transform(crop_size=256, min_short_side=256, max_short_side=256)
    lefts = {round(float(t(frames)[0, 0, :, 0].mean()), 2) for _ in range(30)}
    white, black = (1 - 0.45) / 0.225, (0 - 0.45) / 0.225
    assert lefts == {round(white, 2), round(black, 2)}  # left column white unflipped, else black


def test_test_transform_three_crops_cover_the_long_side():
    frames = torch.arange(320, dtype=torch.uint8).repeat(256, 1)[None, :, :, None]
    frames = frames.expand(1, 256, 320, 3).contiguous()  # pixel value = column (mod 256)
    crops = [T.test_transform(256, 256, i)(frames) for i in range(3)]
    firsts = [T.denormalize(c)[0, 0, 0, 0].item() for c in crops]
    assert firsts == [0, 32, 64]  # left, centre, right of 320 columns
    assert all(c.shape == (3, 1, 256, 256) for c in crops)
    with pytest.raises(ValueError, match="spatial_index"):
        T.test_transform(spatial_index=3)
    with pytest.raises(ValueError, match="\\(T, H, W, 3\\)"):
        T.test_transform()(frames[0])


def test_denormalize_inverts_normalisation():
    frames = torch.randint(0, 256, (4, 32, 32, 3), dtype=torch.uint8)
    out = T.test_transform(32, 32)(frames)
    assert torch.equal(T.denormalize(out), frames)
