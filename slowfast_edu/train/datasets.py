"""The videos a config trains on: check they exist (or make the synthetic set), read them as the
model's clips, and load them with DataLoader workers that start safely.

`prepare_data` runs before anything is decoded or built: a missing video list or class-name file
is a `MissingDataError` that names the key and the file, except for the synthetic motion set
(`data.synthetic` in the config), which is generated where `data.train` points, with one line
saying so.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from ..data.kinetics import KineticsDataset, read_video_list
from ..data.multilabel import MultiLabelDataset
from ..labels import load_label_map
from ..models import get_config
from .config import ConfigError, resolve_config
from .multilabel import is_multilabel, multilabel_class_names, write_synthetic_multilabel


class MissingDataError(FileNotFoundError):
    """A file the config names does not exist; the message says which key and what to do."""


def dataset_from_config(data: dict, source: str, mode: str, alpha: int, clips: int = 1,
                        crops: int = 1, progress: bool = False, multilabel: bool = False
                        ) -> KineticsDataset:
    """A KineticsDataset (a MultiLabelDataset for a multi-label list) with the settings of a
    resolved data section (`resolve_config`)."""
    kind = MultiLabelDataset if multilabel else KineticsDataset
    return kind(
        source, mode=mode, video_root=data["video_root"], classnames=data["classnames"],
        num_frames=data["num_frames"], sampling_rate=data["sampling_rate"], alpha=alpha,
        target_fps=data["target_fps"], num_clips=clips, num_crops=crops,
        crop_size=data["crop_size"], short_side=tuple(data["short_side"]),
        test_short_side=data["test_short_side"], test_crop_size=data["test_crop_size"],
        flip=data["flip"], backend=data["backend"], cache=data["cache"], progress=progress)


def datasets_from_config(config: dict, progress: bool = False
                         ) -> tuple[KineticsDataset, KineticsDataset | None]:
    """The training set and the validation set (None without data.val) a config trains on."""
    config = resolve_config(config)
    data, model = config["data"], config["model"]
    alpha = get_config(model["name"], **model["overrides"]).alpha  # the config, no network
    multi = is_multilabel(config)
    train_set = dataset_from_config(data, data["train"], "train", alpha, progress=progress,
                                    multilabel=multi)
    val_set = (dataset_from_config(data, data["val"], "test", alpha, data["val_clips"],
                                   data["val_crops"], progress, multi) if data["val"] else None)
    return train_set, val_set


def class_names(config: dict) -> list[str]:
    """The class names of the training list, without opening a video."""
    data = config["data"]
    if is_multilabel(resolve_config(config)):
        return multilabel_class_names(data)
    names = load_label_map(data["classnames"]) if data["classnames"] else None
    return read_video_list(data["train"], data["video_root"], names)[1]


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def prepare_data(config: dict, progress: bool = True, announce=_note,
                 source: str | os.PathLike | None = None) -> None:
    """Make sure the files the data section names exist: generate the synthetic set where
    `data.synthetic` asks for it, else raise `MissingDataError` naming the key and the file
    (and `source`, the config file, whose first lines say how to make its data)."""
    data = config["data"]
    if not data["train"]:
        raise ConfigError("the config has no data.train: give a video list to train on, e.g. "
                          "data.train=path/to/train.csv")
    spec = data["synthetic"]
    if spec is not None and not Path(data["train"]).exists():
        folder = Path(data["train"]).parent
        if Path(data["train"]).name != "train.csv":
            raise ConfigError(f"data.synthetic makes train.csv, val.csv and classnames.json in a "
                              f"folder, so data.train must be FOLDER/train.csv, not "
                              f"{data['train']}")
        if is_multilabel(resolve_config(config)):
            announce(f"{data['train']} does not exist yet: generating the synthetic multi-label "
                     f"set in {folder} (data.synthetic: {spec})")
            write_synthetic_multilabel(folder, spec, progress)
        else:
            announce(f"{data['train']} does not exist yet: generating the synthetic motion set "
                     f"in {folder} (as `slowfast-edu data synthetic --out {folder}"
                     + "".join(f" --{k.replace('_', '-')} {v}" for k, v in spec.items()) + "`)")
            from ..data.synthetic import write_dataset

            write_dataset(folder, videos_per_class_train=spec.get("train_per_class", 40),
                          videos_per_class_val=spec.get("val_per_class", 20),
                          num_frames=spec.get("frames", 64), size=spec.get("size", 48),
                          seed=spec.get("seed", 0), workers=min(2, os.cpu_count() or 1),
                          progress=progress)
    for key in ("train", "val", "classnames", "video_root"):
        path = data[key]
        if path and not Path(path).exists():
            where = f"the first lines of {source} say how" if source else "see its config"
            raise MissingDataError(
                f"data.{key}: {path} does not exist (relative paths start from "
                f"{Path.cwd()}); make the data set first ({where}) or point data.{key} at "
                f"yours, e.g. data.{key}=PATH")


def loader(dataset: Dataset, data: dict, batch_size: int, **kwargs) -> DataLoader:
    """A DataLoader with `data.num_workers` workers started by `data.multiprocessing_context`."""
    workers = data["num_workers"]
    context = multiprocessing.get_context(data["multiprocessing_context"]) if workers else None
    return DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                      multiprocessing_context=context, **kwargs)
