"""Checks of the sampling exercises: which frames each pathway sees (notebooks 01, 05, 06)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data import sampling, synthetic
from .common import (as_tensor, diagnose, exercise_check, fail, listed, own, run_student,
                     same)

SLOW_SETTINGS = [(8, 8, 4), (4, 16, 8), (16, 8, 4), (2, 32, 8), (6, 10, 5), (3, 12, 2)]


def paper_slow_frames(T: int, tau: int, alpha: int) -> torch.Tensor:
    """The paper's Slow frames of a window from frame 0: every tau-th, (T,)."""
    return torch.arange(0, T * tau, tau)


def pyslowfast_slow_frames(T: int, tau: int, alpha: int) -> torch.Tensor:
    """PySlowFast's: alpha*T Fast frames by linspace over the window, then T of those, (T,)."""
    fast = torch.linspace(0, T * tau - 1, alpha * T).long()  # (alpha*T,)
    return fast[torch.linspace(0, alpha * T - 1, T).long()]


def strided_slow_frames(T: int, tau: int, alpha: int) -> torch.Tensor:
    """Every alpha-th of PySlowFast's Fast frames, (T,)."""
    return torch.linspace(0, T * tau - 1, alpha * T).long()[::alpha]


DEFINITIONS = {
    "the paper's (every tau-th frame: arange(0, T*tau, tau))": paper_slow_frames,
    "PySlowFast's (linspace over the Fast frames, as pack_pathways)": pyslowfast_slow_frames,
    "every alpha-th of PySlowFast's Fast frames": strided_slow_frames,
}


def _integers(x, name: str, setting: str) -> torch.Tensor:
    t = as_tensor(x)
    if t is None or t.dim() != 1:
        raise fail(f"{name} for {setting}: expected a 1-D tensor of frame indices, got "
                   f"{listed(x)}", "return a tensor (or a list) of T integers")
    if t.is_floating_point():
        if not torch.equal(t, t.floor()):
            raise fail(f"{name} for {setting}: got fractional frame indices {listed(t)}",
                       "frame indices are integers: round the linspace down with .long()")
        t = t.long()
    return t


@exercise_check("slow_frame_indices",
                library=lambda: [sampling.sample_indices, sampling.pack_pathways],
                subclass=False, wrong=[
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    return torch.linspace(0, T * tau - 1, alpha * T).long()", "Fast pathway's"),
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    return torch.arange(0, T * tau, tau // alpha)[:T]", "Fast pathway's stride"),
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    return torch.linspace(0, T * tau - 1, T).long()", "among the Fast frames"),
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    fast = torch.linspace(0, T * tau, alpha * T).long()\n"
     "    return fast[torch.linspace(0, alpha * T - 1, T).long()]", "0 to T*tau - 1"),
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    return torch.linspace(0, T * tau - 1, alpha * T)[torch.arange(0, alpha * T, alpha)]",
     "integers"),
    ("def slow_frame_indices(T, tau, alpha):\n"
     "    return torch.tensor([0, 8, 16, 24, 32, 40, 48, 56])", "the Slow pathway sees T"),
])
def check_slow_frame_indices(slow_frame_indices: Callable) -> None:
    """Exercise 01.1: the Slow frames of one view, by the paper's rule or by PySlowFast's."""
    name = "slow_frame_indices"
    own(slow_frame_indices, name)
    matching = dict(DEFINITIONS)
    for T, tau, alpha in SLOW_SETTINGS:
        setting = f"T={T}, tau={tau}, alpha={alpha}"
        got = _integers(run_student(slow_frame_indices, (T, tau, alpha), name,
                                    [sampling.sample_indices, sampling.pack_pathways],
                                    setting=setting), name, setting)
        matching = {k: d for k, d in matching.items() if same(got, d(T, tau, alpha))}
        if matching:
            continue
        hint = diagnose(got, [
            (f"these are the Fast pathway's alpha*T = {alpha * T} frames; the Slow pathway "
             f"sees T = {T} of them", lambda: torch.linspace(0, T * tau - 1, alpha * T).long()),
            ("tau // alpha is the Fast pathway's stride; the Slow pathway's is tau",
             lambda: torch.arange(0, T * tau, max(tau // alpha, 1))[:T]),
            ("those T frames are spread over the window directly, so most are not Fast frames; "
             "the Slow frames must be among the Fast frames: first the alpha*T Fast frames, "
             "then T of them", lambda: torch.linspace(0, T * tau - 1, T).long()),
            ("the window holds the frames 0 to T*tau - 1: linspace(0, T*tau - 1, ...)",
             lambda: torch.linspace(0, T * tau, alpha * T).long()[
                 torch.linspace(0, alpha * T - 1, T).long()]),
            ("frames are numbered from 0", lambda: paper_slow_frames(T, tau, alpha) + 1),
        ])
        if hint is None and len(got) != T:
            hint = f"the Slow pathway sees T = {T} frames"
        raise fail(f"{name}({T}, {tau}, {alpha}) (a setting the exercise did not show) returned "
                   f"{listed(got)}; the paper's rule gives "
                   f"{listed(paper_slow_frames(T, tau, alpha))}"
                   f" and PySlowFast's {listed(pyslowfast_slow_frames(T, tau, alpha))}", hint)
    which = next(iter(matching))
    paper, pyslowfast = paper_slow_frames(8, 8, 4).tolist(), pyslowfast_slow_frames(8, 8, 4)
    print(f"✓ {name}: right on {len(SLOW_SETTINGS)} settings, {which}.\n"
          f"  Both definitions are in use. The paper takes every tau-th frame; PySlowFast picks "
          f"the alpha*T Fast frames with linspace over the window, then T of them with linspace "
          f"again, so the first and the last Fast frame are always Slow frames. For 8x8: "
          f"{paper} (the paper) and {pyslowfast.tolist()} (PySlowFast): the same rate on "
          f"average, gaps of 8 to 11 frames instead of exactly 8.")


def _pack_positions(t_fast: int, alpha: int) -> torch.Tensor:
    numbered = torch.arange(t_fast, dtype=torch.float32).view(1, 1, t_fast, 1, 1)
    slow, _ = sampling.pack_pathways(numbered, alpha)  # pixel value = frame index
    return slow.flatten().long()


POSITION_SETTINGS = [(16, 4), (32, 4), (32, 8), (64, 4), (12, 3), (8, 2), (40, 5)]


@exercise_check("slow_positions", library=lambda: [sampling.pack_pathways], subclass=False,
                wrong=[
    ("def slow_positions(T_fast, alpha):\n"
     "    return torch.arange(0, T_fast, alpha)", "every alpha-th"),
    ("def slow_positions(T_fast, alpha):\n"
     "    return torch.linspace(0, T_fast - 1, T_fast // alpha).round().long()", "down"),
    ("def slow_positions(T_fast, alpha):\n"
     "    return torch.linspace(0, T_fast, T_fast // alpha).long()", "T_fast - 1"),
    ("def slow_positions(T_fast, alpha):\n"
     "    return torch.tensor([0, 5, 10, 15])", "T_fast // alpha"),
])
def check_slow_positions(slow_positions: Callable) -> None:
    """Exercise 05.1: the Fast frames `pack_pathways` keeps for the Slow pathway."""
    name = "slow_positions"
    own(slow_positions, name)
    for t_fast, alpha in POSITION_SETTINGS:
        setting = f"T_fast={t_fast}, alpha={alpha}"
        got = _integers(run_student(slow_positions, (t_fast, alpha), name,
                                    [sampling.pack_pathways], setting=setting), name, setting)
        want = _pack_positions(t_fast, alpha)
        if same(got, want):
            continue
        hint = diagnose(got, [
            ("that is every alpha-th frame (the paper's rule), but pack_pathways spreads the "
             "T_fast // alpha frames from the first to the last: linspace(0, T_fast - 1, ...)",
             lambda: torch.arange(0, t_fast, alpha)),
            ("pack_pathways rounds the linspace down (.long()), it does not round to nearest",
             lambda: torch.linspace(0, t_fast - 1, t_fast // alpha).round().long()),
            ("the last Fast frame is T_fast - 1", lambda: torch.linspace(
                0, t_fast, t_fast // alpha).long()),
        ])
        if hint is None and len(got) != len(want):
            hint = f"the Slow pathway keeps T_fast // alpha = {len(want)} frames"
        raise fail(f"{name}({t_fast}, {alpha}) (a setting the exercise did not show) returned "
                   f"{listed(got)}, pack_pathways keeps {listed(want)}", hint)
    print(f"✓ {name}: the frames pack_pathways keeps, on {len(POSITION_SETTINGS)} settings")


@exercise_check("motion_twin", library=lambda: [synthetic.motion_twins], subclass=False, wrong=[
    ("def motion_twin(class_id):\n    return class_id + 1", "odd"),
    ("def motion_twin(class_id):\n    return class_id", "itself"),
    ("def motion_twin(class_id):\n    return (class_id + 2) % 6", "shape"),
    ("def motion_twin(class_id):\n    return CLASSES[class_id ^ 1]", "class id"),
])
def check_motion_twin(motion_twin: Callable) -> None:
    """Exercise 05.2: the class with the same shape and the other direction."""
    name = "motion_twin"
    own(motion_twin, name)
    for k, label in enumerate(synthetic.CLASSES):
        got = run_student(motion_twin, (k,), name, [synthetic.motion_twins], setting=f"class {k}")
        want = next(c for c in synthetic.motion_twins(k) if c != k)
        if isinstance(got, str) or as_tensor(got) is None or as_tensor(got).numel() != 1:
            raise fail(f"{name}({k}) returned {got!r}", "return the class id (an int), not its "
                       "name: ids index synthetic.CLASSES")
        got = int(as_tensor(got))
        if got == want:
            continue
        hint = ("that is the class itself" if got == k else
                "for a class moving right (odd ids) the twin is the one before it"
                if k % 2 and got == k + 1 else
                "the twin keeps the shape and flips the direction; that one has another shape"
                if 0 <= got < len(synthetic.CLASSES) and got // 2 != k // 2 else None)
        raise fail(f"{name}({k}) = {got}, expected {want}: the twin of {label} is "
                   f"{synthetic.CLASSES[want]}", hint)
    print(f"✓ {name}: the motion twin of each of the {len(synthetic.CLASSES)} classes")


CLIP_SETTINGS = [(300, 64, 10), (250, 64, 10), (120, 32, 5), (1000, 128, 7), (90, 64, 4),
                 (64, 64, 3)]


def _starts(video: int, window: int, clips: int) -> list[int]:
    return [int(sampling.window_start(video, window, i, clips)) for i in range(clips)]


@exercise_check("test_clip_starts",
                library=lambda: [sampling.window_start, sampling.sample_indices],
                subclass=False, wrong=[
    ("def test_clip_starts(video_frames, window, num_clips):\n"
     "    return [int((video_frames - window) * i / (num_clips - 1)) for i in range(num_clips)]",
     "num_clips - 1"),
    ("def test_clip_starts(video_frames, window, num_clips):\n"
     "    return [int(video_frames * i / num_clips) for i in range(num_clips)]", "past the end"),
    ("def test_clip_starts(video_frames, window, num_clips):\n"
     "    return [round((video_frames - window) * i / num_clips) for i in range(num_clips)]",
     "down"),
    ("def test_clip_starts(video_frames, window, num_clips):\n"
     "    return [0, 23, 47, 70, 94, 118, 141, 165, 188, 212]", "every video"),
])
def check_test_clip_starts(test_clip_starts: Callable) -> None:
    """Exercise 06.1: where the test clips start (PySlowFast's uniform windows)."""
    name = "test_clip_starts"
    own(test_clip_starts, name)
    for video, window, clips in CLIP_SETTINGS:
        setting = f"{video} frames, window {window}, {clips} clips"
        got = run_student(test_clip_starts, (video, window, clips), name,
                          [sampling.window_start, sampling.sample_indices], setting=setting)
        want = _starts(video, window, clips)
        if same(got, want):
            continue
        delta = max(video - window, 0)
        hint = diagnose(got, [
            ("dividing by num_clips - 1 would end the last window at the video's end; "
             "PySlowFast divides by num_clips", lambda: [int(delta * i / (clips - 1))
                                                         for i in range(clips)]),
            ("the last window would run past the end: the windows start within the first "
             "video_frames - window frames", lambda: [int(video * i / clips)
                                                      for i in range(clips)]),
            ("the start frames are rounded down (int), as sample_indices does",
             lambda: [round(delta * i / clips) for i in range(clips)]),
        ])
        if hint is None and same(got, _starts(*CLIP_SETTINGS[0])):
            hint = ("those are the starts of the 300-frame video, for every video: compute them "
                    "from video_frames, window and num_clips")
        if hint is None and (as_tensor(got) is None or len(as_tensor(got)) != clips):
            hint = f"one start frame per clip: {clips} clips here (the 10 clips were one case)"
        raise fail(f"{name}({video}, {window}, {clips}) (a video the exercise did not show) "
                   f"returned {listed(got)}, expected {want}", hint)
    print(f"✓ {name}: PySlowFast's test windows on {len(CLIP_SETTINGS)} videos")
