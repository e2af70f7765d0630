"""Which videos a Kinetics subset holds: the annotation CSV, the chosen classes, the splits.

The rules are in `subset`'s docstring; `subset.build_subset` puts them to work.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..labels import load_label_map

SPLITS = ("train", "val")
_SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                "validate": "val", "validation": "val"}
_COLUMNS = ("label", "youtube_id", "time_start", "time_end")
_UNSAFE = re.compile(r'[\s<>:"/\\|?*\x00-\x1f]')  # spaces, and what Windows forbids in names


@dataclass(frozen=True)
class Clip:
    """One annotated video: class, YouTube id, window (seconds) and its split in the subset."""

    label: str
    youtube_id: str
    start: float
    end: float
    split: str  # "train"/"val" in the subset; in `read_annotations`, the CSV's own ("" if none)

    @property
    def name(self) -> str:
        """The Kinetics file name (without suffix): `{youtube_id}_{start:06d}_{end:06d}`."""
        return f"{self.youtube_id}_{int(self.start):06d}_{int(self.end):06d}"

    @property
    def path(self) -> str:
        """Where the subset keeps it, relative to the output folder."""
        return f"videos/{safe_name(self.label)}/{safe_name(self.name)}.mp4"


def safe_name(name: str) -> str:
    """`name` usable as a file or folder name everywhere, without spaces ("tying knot" ->
    "tying_knot")."""
    return _UNSAFE.sub("_", name.strip())


def read_annotations(path: str | os.PathLike) -> list[Clip]:
    """The rows of an official Kinetics annotation CSV
    (`label,youtube_id,time_start,time_end,split[,is_cc]`), in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation CSV {path} not found (the official Kinetics "
                                "annotations, e.g. kinetics-400_val.csv)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a Kinetics annotation CSV: no column "
                             f"{', '.join(missing)} (expected a header line "
                             f"label,youtube_id,time_start,time_end,split; got "
                             f"{','.join(reader.fieldnames or []) or 'an empty file'})")
        clips = []
        for row in reader:
            try:
                start, end = float(row["time_start"]), float(row["time_end"])
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {reader.line_num}: time_start/time_end must be "
                                 f"seconds, got {row['time_start']!r}, {row['time_end']!r}"
                                 ) from None
            if not row["label"] or not row["youtube_id"] or not end > start >= 0:
                raise ValueError(f"{path}, line {reader.line_num}: needs a label, a youtube_id "
                                 f"and 0 <= time_start < time_end, got {row}")
            clips.append(Clip(row["label"], row["youtube_id"], start, end,
                              (row.get("split") or "").strip().lower()))
    if not clips:
        raise ValueError(f"{path} has a header but no rows")
    return clips


def choose_classes(available: list[str], spec: str | int) -> list[str]:
    """The classes `spec` asks for, alphabetical: a count N (the first N), comma-separated names,
    or a label-map file (.txt one per line, .json list)."""
    available = sorted(set(available))
    if isinstance(spec, int) or str(spec).strip().isdigit():
        n = int(spec)
        if not 1 <= n <= len(available):
            raise ValueError(f"--classes {n}: the annotations have {len(available)} classes")
        return available[:n]
    is_file = Path(spec).suffix in (".txt", ".json") and Path(spec).is_file()
    names = load_label_map(spec) if is_file else str(spec).split(",")
    names = sorted({name.strip() for name in names if name.strip()})
    hints = []
    for name in (name for name in names if name not in available):
        close = difflib.get_close_matches(name, available, n=3, cutoff=0.6)
        hints.append(f"{name!r} (did you mean {', '.join(map(repr, close))}?)" if close
                     else repr(name))
    if hints:
        raise ValueError(f"unknown class{'es' if len(hints) > 1 else ''} {'; '.join(hints)}: "
                         "names must match the annotation CSV's labels exactly")
    if not names:
        raise ValueError(f"--classes {spec!r} names no class")
    return names


def plan_subset(rows: list[Clip], classes: list[str], per_class: int,
                val_fraction: float | None = None) -> list[Clip]:
    """The clips of the subset, each with its split (the rules are in `subset`'s docstring)."""
    if per_class < 1:
        raise ValueError(f"--per-class must be at least 1, got {per_class}")
    if val_fraction is not None and not 0 <= val_fraction < 1:
        raise ValueError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    splits = {_SPLIT_NAMES.get(r.split) for r in rows}
    by_csv = val_fraction is None and set(SPLITS) <= splits
    fraction = 0.2 if val_fraction is None else val_fraction
    by_class: dict[str, dict[str, Clip]] = {name: {} for name in classes}
    for r in rows:  # keyed by file name: the same id and window twice would be one output file
        if r.label in by_class:
            by_class[r.label].setdefault(r.name, r)
    plan = []
    for name in classes:
        mine = list(by_class[name].values())
        if by_csv:  # the first M of each split
            chosen = []
            for split in SPLITS:
                rows_of_split = [r for r in mine if _SPLIT_NAMES.get(r.split) == split]
                chosen += [(r, split) for r in rows_of_split[:per_class]]
        else:  # the first M, the last of them to val
            mine = mine[:per_class]
            n_val = min(len(mine) - 1, max(1, round(len(mine) * fraction))) if fraction else 0
            chosen = [(r, "train" if i < len(mine) - n_val else "val") for i, r in enumerate(mine)]
        plan += [Clip(r.label, r.youtube_id, r.start, r.end, split) for r, split in chosen]
    return plan
