"""TSN-style segment sampling: a few frames spread over the whole video, one from each segment.

Temporal Segment Networks (Wang et al., ECCV 2016) cut a video into K segments of equal length and
take one short snippet from each (1 RGB frame, or a few consecutive frames): at a random place in
its segment for training, at the segment's centre for testing. K frames, wherever the video is
long or short, cover all of it: cheap, and for actions told by their scene or objects (a pool, a
guitar) a few far-apart frames are all it takes.

Why SlowFast samples densely instead (`sampling.sample_indices`): motion happens between nearby
frames. Frames a second or more apart do not show which way something moved or how fast, so the
Fast pathway takes consecutive frames at a high rate (every 2nd frame at 30 fps), and the Slow
pathway takes its few frames from that same short window (about 2 s), so that the two see the same
moment and the lateral connections join matching times. The whole video is covered at test time by
several such windows (10 in the paper), their scores averaged. On the synthetic motion set
(`data.synthetic`) a TSN sampler shows the shape but never its direction, as the Slow pathway does:
its frames are always in different segments of the glide.
"""

from __future__ import annotations

import torch


def segment_indices(num_video_frames: int, num_segments: int, snippet: int = 1,
                    training: bool = True, generator: torch.Generator | None = None
                    ) -> torch.Tensor:
    """(K * snippet,) frame indices: one snippet of `snippet` consecutive frames from each of
    K = `num_segments` equal segments, at a random place (training) or centred (testing).

    The segments divide the places a snippet can start (frames 0 .. N - snippet), as TSN's code
    does: 300 frames, K = 3, snippet 1 -> segments of 100 frames, tested at 50, 150 and 250. A
    video with fewer frames than segments repeats frames (indices are clamped to the video), as
    the dense sampler pads short clips.
    """
    if num_video_frames < 1:
        raise ValueError("the video has no frames")
    if num_segments < 1 or snippet < 1:
        raise ValueError(f"num_segments and snippet must be at least 1, got {num_segments} and "
                         f"{snippet}")
    # the snippet's possible first frames, 0 .. N - snippet, cut into K parts of equal length
    tick = max(num_video_frames - snippet + 1, 1) / num_segments
    k = torch.arange(num_segments, dtype=torch.float64)  # (K,)
    if training:  # anywhere in its part: part k holds the first frames bounds[k] .. bounds[k+1]-1
        bounds = (torch.arange(num_segments + 1, dtype=torch.float64) * tick).floor()  # (K + 1,)
        u = torch.rand(num_segments, generator=generator, dtype=torch.float64)
        start = bounds[:-1] + (u * (bounds[1:] - bounds[:-1])).floor()  # (K,)
    else:  # the middle of its part, as TSN's test code: int(tick * (k + 0.5))
        start = ((k + 0.5) * tick).floor()  # (K,)
    index = start.long()[:, None] + torch.arange(snippet)  # (K, snippet)
    return index.flatten().clamp(0, num_video_frames - 1)  # (K * snippet,)
