"""Tiny models and clips for the explain tests: 64 x 64 pixels, 4 Slow / 16 Fast frames."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from torch import nn

from slowfast_edu import build_model

from ..conftest import randomize_bn

NUM_CLASSES = 5
SIZE = 64


def tiny(name: str = "slowfast_tiny", **overrides) -> nn.Module:
    """A tiny preset with non-trivial BN (a fresh net's residual branches are all zero)."""
    torch.manual_seed(0)
    return randomize_bn(build_model(name, num_classes=NUM_CLASSES, **overrides))


def clips_for(model: nn.Module, batch: int = 2, size: int = SIZE, seed: int = 0
              ) -> list[torch.Tensor]:
    """Random normalised inputs the model takes: [slow, fast], [slow] or [fast]."""
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed)
    fast = torch.randn(batch, 3, cfg.fast_frames, size, size, generator=g)
    slow = fast[:, :, torch.linspace(0, cfg.fast_frames - 1, cfg.slow_frames).long()]
    return {"slowfast": [slow, fast], "slow": [slow], "fast": [fast]}[cfg.arch]


def moving_square(num_frames: int = 40, height: int = 72, width: int = 96) -> np.ndarray:
    """(T, H, W, 3) uint8: a red square crossing a grey frame."""
    frames = np.full((num_frames, height, width, 3), 110, np.uint8)
    for t in range(num_frames):
        x = 4 + 2 * t % (width - 20)
        frames[t, 26:42, x:x + 16] = (220, 40, 40)
    return frames


def write_clip(path: Path, frames: np.ndarray, fps: int = 30) -> Path:
    """Encode frames as a fast H.264 mp4."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for img in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame 96 x 72 clip of a moving square."""
    return write_clip(tmp_path_factory.mktemp("explain") / "square.mp4", moving_square())


@pytest.fixture(autouse=True)
def _one_thread():
    """These tiny models run fastest on one thread; on a busy machine, OpenMP threads waiting on
    each other make them up to 100x slower. Restored afterwards for the other tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def snapshot(model: nn.Module) -> dict:
    """Everything grad_cam must leave as it was."""
    return {
        "training": [m.training for m in model.modules()],
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
    }


def assert_unchanged(model: nn.Module, before: dict) -> None:
    """The model matches `before` bit for bit and holds no hooks."""
    after = snapshot(model)
    assert after["training"] == before["training"]
    assert after["requires_grad"] == before["requires_grad"]
    assert after["state"].keys() == before["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key], value), key
    for g_after, g_before in zip(after["grads"], before["grads"]):
        assert (g_after is None) == (g_before is None)
        if g_before is not None:
            assert torch.equal(g_after, g_before)
    for name, m in model.named_modules():
        for hooks in ("_forward_hooks", "_backward_hooks", "_forward_pre_hooks",
                      "_backward_pre_hooks"):
            assert not getattr(m, hooks), f"{name or 'model'} keeps {hooks}"
