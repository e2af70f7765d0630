"""TSN-style segment sampling: one snippet per equal segment, random in training, centred in
testing, with the numbers of TSN's reference code."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.data import segment_indices


def test_testing_takes_the_centre_of_each_segment():
    # TSN's test offsets: int(tick / 2 + tick * k), tick = (N - snippet + 1) / K
    assert segment_indices(300, 3, training=False).tolist() == [50, 150, 250]
    assert segment_indices(300, 3, snippet=5, training=False).tolist() == [
        *range(49, 54), *range(148, 153), *range(246, 251)]  # tick = 296 / 3
    assert segment_indices(10, 4, training=False).tolist() == [1, 3, 6, 8]  # tick 2.5


def test_training_takes_one_random_snippet_inside_each_segment():
    g = torch.Generator().manual_seed(0)
    seen = [set() for _ in range(4)]
    for _ in range(200):
        index = segment_indices(64, 4, snippet=2, generator=g).view(4, 2)  # (K, snippet)
        assert torch.equal(index[:, 1], index[:, 0] + 1)  # consecutive frames in a snippet
        for k, first in enumerate(index[:, 0].tolist()):
            seen[k].add(first)
    # first frames 0..62 in 4 parts of 15.75: 0-14, 15-30, 31-46, 47-62, each drawn in full
    assert seen == [set(range(0, 15)), set(range(15, 31)), set(range(31, 47)), set(range(47, 63))]
    again = segment_indices(64, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again, segment_indices(64, 4, generator=torch.Generator().manual_seed(1)))


def test_short_videos_repeat_frames_and_bad_arguments_are_refused():
    assert segment_indices(3, 6, training=False).tolist() == [0, 0, 1, 1, 2, 2]
    assert segment_indices(2, 2, snippet=4, training=False).tolist() == [0, 1, 1, 1] * 2
    with pytest.raises(ValueError, match="no frames"):
        segment_indices(0, 3)
    with pytest.raises(ValueError, match="num_segments and snippet must be at least 1"):
        segment_indices(10, 0)
