"""Clips for the notebooks: a real one when there is one, else a synthetic sample, never a download.

Real footage lives outside the repository, in `../shared/clips/` beside a checkout (or in the
folder `$SLOWFAST_EDU_CLIPS` names). The synthetic samples live in the checkout's `data_samples/`;
where the package is installed without a checkout (pip on Colab) the same sample is rendered with
`slowfast_edu.data.synthetic` into the cache folder, so the notebooks run offline everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..data import synthetic

CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when run from a checkout
REAL_CLIP = "arm_wrestling.mp4"  # Kinetics-400 "arm wrestling", 10 s at 28 fps (see SOURCES.md)
SAMPLE_CLIP = "val/red_circle_moving_right_0000.mp4"


def data_samples_dir() -> Path | None:
    """The checkout's `data_samples/` folder, or None when the package runs without a checkout."""
    folder = CHECKOUT / "data_samples"
    return folder if (folder / "val.csv").is_file() else None


def _real_clips_candidate() -> Path:
    return Path(os.environ.get("SLOWFAST_EDU_CLIPS") or CHECKOUT.parent / "shared" / "clips")


def real_clips_dir() -> Path | None:
    """The folder of real clips: `$SLOWFAST_EDU_CLIPS`, else `../shared/clips`; None if absent."""
    folder = _real_clips_candidate()
    return folder if folder.is_dir() else None


def sample_clip(name: str = SAMPLE_CLIP) -> Path:
    """A synthetic sample clip, e.g. "val/red_circle_moving_right_0000.mp4" (split/class_index).

    Read from `data_samples/`, or rendered once into the cache folder (the same frames: the
    data_samples README's call) when the package runs without a checkout.
    """
    samples = data_samples_dir()
    if samples is not None and (samples / name).is_file():
        return samples / name
    split, stem = Path(name).parent.name, Path(name).stem
    class_name, _, index = stem.rpartition("_")
    if split not in ("train", "val") or class_name not in synthetic.CLASSES or not index.isdigit():
        raise FileNotFoundError(f"no sample clip {name!r}: expected 'train/' or 'val/' then "
                                f"CLASS_NNNN.mp4 with CLASS one of {synthetic.CLASSES}")
    from ..models.weights import cache_dir

    path = cache_dir() / "data_samples" / name
    if not path.is_file():
        class_id = synthetic.CLASSES.index(class_name)
        frames = synthetic.generate_clip(class_id, synthetic.clip_seed(0, split, class_id,
                                                                       int(index)), 64, 64)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.stem + ".part.mp4")
        synthetic.write_video(part, frames)
        os.replace(part, path)
    return path


def lesson_clip(real: str = REAL_CLIP) -> tuple[Path, str]:
    """(path, where it comes from): the real clip `real` when present, else the synthetic sample."""
    folder = real_clips_dir()
    if folder is not None and (folder / real).is_file():
        return folder / real, f"a real clip: {folder / real}"
    path = sample_clip()
    why = (f"{real} not found in {folder}" if folder else
           f"no folder of real clips ({_real_clips_candidate()})")
    return path, f"{why}, so a synthetic sample instead: {path}"
