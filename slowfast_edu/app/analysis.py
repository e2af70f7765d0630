"""What the app does with one upload, in plain Python: read it, predict the top-5, explain the
top class with Grad-CAM for each pathway, draw the pictures, and time every step.

    models = available_models()
    result = analyse(models[DEFAULT_LABEL], "clip.mp4", out_dir="/tmp/out")
    result.top5          # {"red_circle_moving_left": 0.93, ...}, best first
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
from .models import AppModel
from .pictures import animation, timeline_grid
from .window import MAX_SECONDS, Clip, read_centre

TOP_K = 5


@dataclass
class Result:
    """Everything the app shows for one upload."""

    top5: dict[str, float]  # class name -> probability, best first
    target: str  # the class Grad-CAM explains (the top-1)
    clip: Clip
    cams: dict[str, torch.Tensor]  # {pathway: (1, 1, T_p, crop, crop)} in [0, 1]
    times: np.ndarray | None = None  # (columns,) seconds under each column of the timelines
    frames_image: np.ndarray | None = None  # (H, W, 3) uint8
    cam_image: np.ndarray | None = None  # (H, W, 3) uint8
    animation: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall-clock seconds

    def summary(self) -> str:
        """Timings and where the frames came from, as Markdown."""
        steps = " · ".join(f"{step} {s:.2f} s" for step, s in self.seconds.items()
                           if step != "total")
        clip = self.clip
        where = (f"read {clip.window[0]:.1f}-{clip.window[1]:.1f} s of it"
                 if clip.window else "read whole")
        return (f"**Processing time: {self.seconds['total']:.2f} s** ({steps})\n\n"
                f"Video: {clip.size[1]}x{clip.size[0]} px, {clip.fps:.2f} fps, "
                f"{clip.duration:.1f} s ({where}). The model saw "
                f"{clip.times[0]:.2f}-{clip.times[-1]:.2f} s; Grad-CAM explains "
                f"*{self.target}*.")


def predict(entry: AppModel, clip: Clip
            ) -> tuple[dict[str, float], dict[str, torch.Tensor], dict[str, float]]:
    """Top-5 {class: probability} from the inference model, Grad-CAM of the top-1 class per
    pathway from the plain one, and the seconds spent waiting for the model and on each; the
    model's lock keeps other requests off it meanwhile."""
    model, fast, names, _ = entry.get()
    asked = time.perf_counter()
    with entry.lock:
        started = time.perf_counter()
        with torch.no_grad():
            probs = fast(clip.inputs).softmax(dim=-1)[0].float()  # (K,)
        top = probs.topk(min(TOP_K, probs.numel()))
        predicted = time.perf_counter()
        cams = grad_cam(model, clip.inputs, target=int(top.indices[0]))  # {p: (1,1,T,H,W)}
        explained = time.perf_counter()
    seconds = {"waiting for the model": started - asked, "predict": predicted - started,
               "Grad-CAM": explained - predicted}
    return {names[int(i)]: float(p) for p, i in zip(top.values, top.indices)}, cams, seconds


def analyse(entry: AppModel, path: str | os.PathLike, out_dir: str | os.PathLike | None = None,
            max_seconds: float = MAX_SECONDS) -> Result:
    """Read, predict, explain and draw one video (see the module docstring); the MP4 goes to
    `out_dir` (no animation when None). Raises `VideoDecodeError` for an unreadable upload."""
    start = time.perf_counter()
    model, _, _, view = entry.get()  # loads the weights on the model's first request
    loaded = time.perf_counter()
    clip = read_centre(path, model.cfg, view, max_seconds)
    read = time.perf_counter()
    top5, cams, steps = predict(entry, clip)
    predicted = time.perf_counter()
    result = Result(top5, next(iter(top5)), clip, cams)
    inputs = dict(zip(cams, clip.inputs))  # {pathway: (1, 3, T_p, crop, crop)}
    seen = {name: to_frames(x[0]) for name, x in inputs.items()}  # (T_p, crop, crop, 3)
    finest = max(len(frames) for frames in seen.values())  # a Slow-only model: T / alpha
    result.times = clip.times[slow_positions(finest, len(clip.times))]  # (finest,) seconds
    result.frames_image = timeline_grid(seen, result.times)
    overlays = pathway_overlays(inputs, cams)  # {pathway: (T_p, crop, crop, 3)}
    result.cam_image = timeline_grid(overlays, result.times)
    if out_dir is not None:
        name = f"gradcam_{Path(path).stem[:40]}_{uuid.uuid4().hex[:8]}.mp4"
        result.animation = animation(overlays, Path(out_dir) / name)
    done = time.perf_counter()
    seconds = {"load": loaded - start, "read": read - loaded, **steps,
               "pictures": done - predicted, "total": done - start}
    # a model loaded by an earlier request, or nobody else on it: not worth a mention
    result.seconds = {step: s for step, s in seconds.items()
                      if s >= 0.005 or step not in ("load", "waiting for the model")}
    return result
