"""What the app does with one upload, in plain Python: read it, predict the top-5, check whether
the clip is in the model's world, explain the top class with Grad-CAM for each pathway, draw the
pictures, and time every step.

    models = available_models()
    result = analyse(models[DEFAULT_LABEL], "clip.mp4", out_dir="/tmp/out")
    result.top5          # {"red_circle_moving_left": 0.93, ...}, best first
    result.in_domain     # False: the labels mean nothing for this clip; result.notice says why
    result.frames_image  # (H, W, 3) uint8: the frames each pathway saw, on one timeline
    result.cam_image     # the same with each pathway's Grad-CAM over it
    result.animation     # an MP4 of the two pathways side by side
    result.seconds       # {"read": s, "predict": s, "Grad-CAM": s, "pictures": s, "total": s}

The gradio front end (`ui.py`) only turns these into components and errors into messages.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..explain import grad_cam, pathway_overlays, slow_positions, to_frames
from ..predict import out_of_world_notice, score_views
from ..views import ClipViews, read_views
from .menu import AppModel
from .pictures import animation, timeline_grid

MAX_SECONDS = 10.0  # the most of a video the app reads, around its centre
TOP_K = 5


@dataclass
class Result:
    """Everything the app shows for one upload."""

    top5: dict[str, float]  # class name -> probability, best first
    target: str  # the class Grad-CAM explains (the top-1)
    clip: ClipViews  # the one view the model saw
    cams: dict[str, torch.Tensor]  # {pathway: (1, 1, T_p, crop, crop)} in [0, 1]
    in_domain: bool | None = None  # None: the model has no domain check
    domain_score: float | None = None  # <= 1 inside the model's world
    notice: str | None = None  # the plain warning for a clip outside the model's world
    times: np.ndarray | None = None  # (T_finest,) seconds of each frame of the finest pathway
    frames_image: np.ndarray | None = None  # (H, W, 3) uint8
    cam_image: np.ndarray | None = None  # (H, W, 3) uint8
    animation: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall-clock seconds

    def summary(self) -> str:
        """Timings and where the frames came from, as Markdown (led by a warning when the clip
        is outside the model's world)."""
        steps = " · ".join(f"{step} {s:.2f} s" for step, s in self.seconds.items()
                           if step != "total")
        clip = self.clip
        times = clip.times[0]
        where = (f"read {clip.window[0]:.1f}-{clip.window[1]:.1f} s of it"
                 if clip.window else "read whole")
        warning = (f"**Not an answer**: this clip is outside the model's world (domain score "
                   f"{self.domain_score:.1f}; at most 1 is inside).\n\n"
                   if self.in_domain is False else "")
        return (f"{warning}**Processing time: {self.seconds['total']:.2f} s** ({steps})\n\n"
                f"Video: {clip.size[1]}x{clip.size[0]} px, {clip.fps:.2f} fps, "
                f"{clip.duration:.1f} s ({where}). The model saw "
                f"{times[0]:.2f}-{times[-1]:.2f} s; Grad-CAM explains *{self.target}*.")


def explain_top(entry: AppModel, clip: ClipViews
                ) -> tuple[dict[str, float], dict[str, torch.Tensor], dict[str, float],
                           float | None]:
    """Top-5 {class: probability} and the domain score from the inference model, Grad-CAM of the
    top-1 class per pathway from the plain one, and the seconds spent waiting for the model and
    on each; the model's lock keeps other requests off it meanwhile."""
    loaded = entry.get()
    asked = time.perf_counter()
    with entry.lock:
        started = time.perf_counter()
        probs, score = score_views(loaded, clip)  # (K,), float or None
        top = probs.topk(min(TOP_K, probs.numel()))
        predicted = time.perf_counter()
        cams = grad_cam(loaded.network, clip.inputs, target=int(top.indices[0]))  # {p: (1,1,..)}
        explained = time.perf_counter()
    seconds = {"waiting for the model": started - asked, "predict": predicted - started,
               "Grad-CAM": explained - predicted}
    top5 = {loaded.classnames[int(i)]: float(p) for p, i in zip(top.values, top.indices)}
    return top5, cams, seconds, score


def analyse(entry: AppModel, path: str | os.PathLike, out_dir: str | os.PathLike | None = None,
            max_seconds: float = MAX_SECONDS) -> Result:
    """Read, predict, check, explain and draw one video (see the module docstring); the MP4 goes
    to `out_dir` (no animation when None). Raises `VideoDecodeError` for an unreadable upload."""
    start = time.perf_counter()
    loaded = entry.get()  # loads the weights on the model's first request
    ready = time.perf_counter()
    clip = read_views(path, loaded.geometry, max_seconds=max_seconds, arch=loaded.arch,
                      mean=loaded.mean, std=loaded.std)
    read = time.perf_counter()
    top5, cams, steps, score = explain_top(entry, clip)
    predicted = time.perf_counter()
    in_domain = None if score is None else score <= 1
    result = Result(top5, next(iter(top5)), clip, cams, in_domain, score,
                    out_of_world_notice(loaded.world) if in_domain is False else None)
    inputs = dict(zip(cams, clip.inputs))  # {pathway: (1, 3, T_p, crop, crop)}
    seen = {name: to_frames(x[0]) for name, x in inputs.items()}  # (T_p, crop, crop, 3)
    finest = max(len(frames) for frames in seen.values())  # a Slow-only model: T / alpha
    result.times = clip.times[0][slow_positions(finest, clip.times.shape[1])]  # (finest,)
    result.frames_image = timeline_grid(seen, result.times)
    overlays = pathway_overlays(inputs, cams)  # {pathway: (T_p, crop, crop, 3)}
    result.cam_image = timeline_grid(overlays, result.times)
    if out_dir is not None:
        name = f"gradcam_{Path(path).stem[:40]}_{uuid.uuid4().hex[:8]}.mp4"
        result.animation = animation(overlays, Path(out_dir) / name)
    done = time.perf_counter()
    seconds = {"load": ready - start, "read": read - ready, **steps,
               "pictures": done - predicted, "total": done - start}
    # a model loaded by an earlier request, or nobody else on it: not worth a mention
    result.seconds = {step: s for step, s in seconds.items()
                      if s >= 0.005 or step not in ("load", "waiting for the model")}
    return result
