"""KineticsDataset(cache=True): every video decoded once, the same views as reading the files each
time, and corrupt files still skipped, replaced and reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from slowfast_edu.data import kinetics
from slowfast_edu.data.kinetics import KineticsDataset
from slowfast_edu.data.video import VideoDecodeError
from slowfast_edu.train.datasets import loader as make_loader
from slowfast_edu.train.loader import SeededViews

from .conftest import SMALL, write_small_videos



@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cache")
    write_small_videos(root)
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))
    lines = ["a0.mp4 0", "a1.mp4 0", "b0.mp4 1", "corrupt.mp4 1", "b1.mp4 1"]
    (root / "list.csv").write_text("\n".join(lines) + "\n")
    return root


def same(a, b) -> bool:
    (slow_a, fast_a), *rest_a = a
    (slow_b, fast_b), *rest_b = b
    return torch.equal(slow_a, slow_b) and torch.equal(fast_a, fast_b) and rest_a == rest_b


@pytest.mark.parametrize("mode", ["train", "test"])
def test_cached_views_equal_decoded_views(videos, mode):
    files = SeededViews(KineticsDataset(videos / "list.csv", mode=mode, num_clips=2, **SMALL), 3)
    cached = SeededViews(KineticsDataset(videos / "list.csv", mode=mode, num_clips=2, cache=True,
                                         **SMALL), 3)
    assert len(cached) == len(files)
    for epoch in (0, 1):  # train mode: a new random window and crop per epoch, the same in both
        for i in range(len(files)):
            assert same(cached[epoch, i], files[epoch, i]), (mode, epoch, i)
    assert set(cached.dataset.pop_skipped()) == {str(videos / "corrupt.mp4")}


def test_cache_decodes_each_video_once(videos, monkeypatch):
    ds = KineticsDataset(videos / "list.csv", mode="train", cache=True, **SMALL)
    assert sorted(ds.cache) == list(range(5))
    frames, fps = ds.cache[0]  # a0.mp4, whole
    assert frames.shape == (40, 48, 64, 3) and frames.dtype == torch.uint8 and fps == 30
    assert isinstance(ds.cache[3], VideoDecodeError)  # corrupt.mp4: kept to be reported

    def no_more_decoding(*args, **kwargs):
        raise AssertionError("a cached dataset opened a video file")

    monkeypatch.setattr(kinetics, "VideoReader", no_more_decoding)
    for epoch in range(2):
        for i in range(len(ds)):
            (slow, fast), label, video = ds[i]
            assert fast.shape == (3, 8, 32, 32) and video != 3


def test_cached_set_with_workers_completes_the_epoch_and_reports_the_corrupt_video(videos):
    ds = KineticsDataset(videos / "list.csv", mode="train", cache=True, **SMALL)
    # the trainer's loader: spawned workers (a process forked after decoding in threads, decord
    # or PyAV, can hang), each view drawn from (seed, epoch, index)
    data = {"num_workers": 1, "multiprocessing_context": "spawn"}
    loader = make_loader(SeededViews(ds, 0), data, 2, shuffle=True,
                         generator=torch.Generator().manual_seed(0))
    assert loader.multiprocessing_context.get_start_method() == "spawn"
    seen = sum(len(labels) for _, labels, _ in loader)
    assert seen == 5  # the corrupt video was replaced, not dropped
    skipped = ds.pop_skipped()
    assert list(skipped) == [str(videos / "corrupt.mp4")]
    assert "corrupt.mp4" in skipped[str(videos / "corrupt.mp4")]
