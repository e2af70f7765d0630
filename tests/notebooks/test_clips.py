"""The notebooks' clips: a real one when present, else a synthetic sample, rendered if need be."""

from __future__ import annotations

import pytest

from slowfast_edu.data import VideoReader
from slowfast_edu.notebooks import clips, lesson_clip, real_clips_dir, sample_clip


def test_sample_clip_reads_data_samples():
    path = sample_clip("val/blue_square_moving_left_0000.mp4")
    assert path == clips.CHECKOUT / "data_samples" / "val" / "blue_square_moving_left_0000.mp4"


def test_sample_clip_without_a_checkout_renders_the_same_clip(tmp_path, monkeypatch):
    shipped = VideoReader(sample_clip("val/blue_square_moving_left_0000.mp4")).get_frames(range(64))
    monkeypatch.setattr(clips, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.setenv("SLOWFAST_EDU_CACHE", str(tmp_path / "cache"))
    path = sample_clip("val/blue_square_moving_left_0000.mp4")
    assert path == tmp_path / "cache" / "data_samples" / "val" / "blue_square_moving_left_0000.mp4"
    rendered = VideoReader(path).get_frames(range(64)).float()
    assert rendered.shape == (64, 64, 64, 3)
    assert (rendered - shipped.float()).abs().mean() < 2.0  # same frames, up to the encoder
    assert sample_clip("val/blue_square_moving_left_0000.mp4") == path  # rendered once
    with pytest.raises(FileNotFoundError, match="no sample clip 'val/purple_x_0000.mp4'"):
        sample_clip("val/purple_x_0000.mp4")


def test_lesson_clip_prefers_the_real_clip(tmp_path, monkeypatch):
    (tmp_path / "arm_wrestling.mp4").write_bytes(b"")
    monkeypatch.setenv("SLOWFAST_EDU_CLIPS", str(tmp_path))
    assert real_clips_dir() == tmp_path
    assert lesson_clip() == (tmp_path / "arm_wrestling.mp4",
                             f"a real clip: {tmp_path / 'arm_wrestling.mp4'}")
    path, where = lesson_clip("yoga.mp4")
    assert path == sample_clip() and where.startswith("yoga.mp4 not found in")
    monkeypatch.setenv("SLOWFAST_EDU_CLIPS", str(tmp_path / "absent"))
    path, where = lesson_clip()
    assert path == sample_clip()
    assert where == (f"no folder of real clips ({tmp_path / 'absent'}), so a synthetic sample "
                     f"instead: {path}")


def test_lesson_clip_uses_shared_clips_when_present(shared_dir, monkeypatch):
    monkeypatch.delenv("SLOWFAST_EDU_CLIPS", raising=False)
    path, where = lesson_clip()
    assert path == shared_dir / "clips" / "arm_wrestling.mp4" and where.startswith("a real clip")
