"""One call from a video to an answer: `predict("clip.mp4")`.

    import slowfast_edu as se
    result = se.predict("clip.mp4")                         # the embedded default model
    result.top5          # [("red_circle_moving_left", 0.97), ...], best first
    result.in_domain     # False for a clip unlike the model's training clips
    result.seconds       # {"load": ..., "read": ..., "predict": ..., "total": ...}
    se.predict("clip.mp4", model="slowfast_8x8_r50", views=(10, 3))   # Kinetics-400, 30 views

It reads the clip at the model's own test view (`slowfast_edu.views`: the centre window and the
centre crop, deterministic), runs the network (BN folded, `optimize_for_inference`), averages the
softmax over the views, and asks the model's domain check (`models/domain.py`) whether the clip
looks like its training data. The Kinetics models carry no domain check: `in_domain` is None.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .models import LoadedModel, load_model
from .models.domain import capture_pooled_features
from .views import ClipViews, read_views

KINETICS_COMMAND = "slowfast-edu weights download slowfast_8x8_r50"
_LOADED: dict[tuple, LoadedModel] = {}  # models named by a string, loaded once per process


@dataclass
class Prediction:
    """The answer for one video."""

    top5: list[tuple[str, float]]  # (class name, probability), best first
    in_domain: bool | None  # does the clip look like the model's training clips? None: unchecked
    domain_score: float | None  # <= 1 inside the model's world (see models/domain.py)
    seconds: dict[str, float]  # wall-clock time of each step, and "total"
    model: str  # which model answered
    world: str  # what that model was trained on
    views: tuple[int, int]  # (windows, crops) averaged
    frames: list[list[int]]  # per window, the frame indices read
    times: list[list[float]]  # per window, the seconds into the video of those frames
    probabilities: torch.Tensor = field(repr=False)  # (K,) averaged over the views

    @property
    def notice(self) -> str | None:
        """The plain warning for a clip outside the model's world; None otherwise."""
        return out_of_world_notice(self.world) if self.in_domain is False else None

    def to_dict(self) -> dict:
        """Everything but the probabilities, as JSON-ready types."""
        return {"top5": [{"name": n, "probability": p} for n, p in self.top5],
                "in_domain": self.in_domain, "domain_score": self.domain_score,
                "notice": self.notice, "model": self.model, "world": self.world,
                "views": list(self.views), "frames": self.frames, "times": self.times,
                "seconds": self.seconds}

    def __str__(self) -> str:
        lines = [f"{p:6.1%}  {name}" for name, p in self.top5]
        if self.notice:
            lines = [self.notice, "", "Not an answer, the labels this model knows:"] + lines
        return "\n".join(lines)


def out_of_world_notice(world: str) -> str:
    """What the app and the CLI say above the labels of a clip outside the model's world."""
    return (f"This clip is outside this model's world. It was trained only on {world}; its "
            f"labels mean nothing for this clip. For real videos, get the Kinetics-400 model: "
            f"`{KINETICS_COMMAND}`.")


def resolve(model: str | os.PathLike | nn.Module | LoadedModel | None = None,
            arch: str | None = None) -> LoadedModel:
    """`load_model(model)`, kept for the process when `model` names a file or a preset."""
    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, nn.Module):
        return load_model(model)  # the caller's own object: never a stale copy of it
    key = (None,) if model is None else (os.fspath(model), arch)
    if key[0] is not None and os.path.isfile(key[0]):
        stat = os.stat(key[0])
        key += (stat.st_mtime_ns, stat.st_size)  # a rewritten checkpoint is loaded again
    if key not in _LOADED:
        _LOADED[key] = load_model(model, arch)
    return _LOADED[key]


def score_views(loaded: LoadedModel, clip: ClipViews, network: nn.Module | None = None,
                batch_size: int = 8) -> tuple[torch.Tensor, float | None]:
    """(softmax averaged over the views (K,), mean domain score or None) for `clip`."""
    network = network if network is not None else loaded.inference_network()
    device = next(network.parameters()).device
    probs, scores = [], []
    capture = (capture_pooled_features(network) if loaded.domain is not None
               else contextlib.nullcontext([]))
    with torch.no_grad(), capture as pooled:
        for start in range(0, clip.num_views, batch_size):
            inputs = [x.to(device) for x in clip.batch(range(start, min(start + batch_size,
                                                                          clip.num_views)))]
            probs.append(network(inputs).float().softmax(dim=-1).cpu())  # (v, K)
            if loaded.domain is not None:
                scores.append(loaded.domain.score(pooled[-1].cpu(), inputs[-1].cpu()).score)
    mean = torch.cat(probs).mean(dim=0)  # (K,)
    return mean, float(torch.cat(scores).mean()) if scores else None


def predict(video: str | os.PathLike | torch.Tensor | np.ndarray,
            model: str | os.PathLike | nn.Module | LoadedModel | None = None, *,
            views: tuple[int, int] = (1, 1), fps: float = 30.0, max_seconds: float | None = None,
            arch: str | None = None, device: str | torch.device | None = None) -> Prediction:
    """Top-5 and domain check for a video file (or decoded frames (T, H, W, 3) uint8 at `fps`);
    `model`: None (the embedded default), a preset with downloaded weights, a checkpoint path, or
    a model object; `views=(10, 3)` for the paper's 30-view protocol."""
    start = time.perf_counter()
    loaded = resolve(model, arch)
    own = isinstance(model, nn.Module)
    network = loaded.network if own else loaded.inference_network()
    if device is not None:
        network = network.to(device)
    was_training = network.training
    loaded_at = time.perf_counter()
    clip = read_views(video, loaded.geometry, views, max_seconds, fps, loaded.arch,
                      loaded.mean, loaded.std)
    read = time.perf_counter()
    try:
        probs, score = score_views(loaded, clip, network.eval())
    finally:
        network.train(was_training)
    done = time.perf_counter()
    top = probs.topk(min(5, probs.numel()))
    return Prediction(
        [(loaded.classnames[int(i)], float(p)) for p, i in zip(top.values, top.indices)],
        None if score is None else score <= 1, score,
        {"load": loaded_at - start, "read": read - loaded_at, "predict": done - read,
         "total": done - start}, loaded.label, loaded.world, tuple(views),
        clip.indices.tolist(), np.round(clip.times, 4).tolist(), probs)
