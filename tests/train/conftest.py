"""A tiny two-class video set for training tests: dark clips against bright clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from ..data.conftest import write_video


def make_video_set(root: Path, per_class: int = 6, frames: int = 24, size: int = 40) -> Path:
    """Videos of two classes (dark, bright; random texture) with train.csv and val.csv."""
    rng = np.random.default_rng(0)
    lines = {"train": [], "val": []}
    for label, level in enumerate((60, 190)):
        for i in range(per_class):
            noise = rng.integers(-40, 40, (size, size, 3))
            image = np.clip(level + noise, 0, 255).astype(np.uint8)
            name = f"c{label}_{i}.mp4"
            write_video(root / name, num_frames=frames, height=size, width=size, rate=30,
                        images=lambda t, img=image: np.roll(img, t, axis=1))
            lines["val" if i % 3 == 0 else "train"].append(f"{name} {label}")
    for split, rows in lines.items():
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    return root


def write_config(path: Path, data_root: Path, **sections) -> Path:
    """A small CPU config on `make_video_set`'s clips: `slowfast_tiny` seeing 8 frames every 2nd
    (T = 2 Slow frames, tau = 8: said in the model, the data section derives them) at 32 px."""
    config = {
        "seed": 0,
        "model": {"name": "slowfast_tiny", "overrides": {"slow_frames": 2, "tau": 8}},
        "data": {"train": str(data_root / "train.csv"), "val": str(data_root / "val.csv"),
                 "crop_size": 32, "short_side": [32, 36], "num_workers": 0},
        "optim": {"base_lr": 0.4, "warmup_epochs": 0.5},
        "train": {"epochs": 3, "batch_size": 2, "checkpoint_every": 1},
    }
    for section, values in sections.items():
        if section == "model" and "overrides" in values:  # add to the clip's overrides
            values = {**values, "overrides": {**config["model"]["overrides"],
                                              **values["overrides"]}}
        config.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def video_set(tmp_path_factory) -> Path:
    return make_video_set(tmp_path_factory.mktemp("videos"))
