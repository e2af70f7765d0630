"""The AVA file formats (v2.1, v2.2): annotations, label maps, excluded timestamps, person boxes.

AVA (Gu et al., CVPR 2018) labels every person in 15-minute movie clips once per second, at the
key frames 902 ... 1798 s of each movie, with one or more of 80 atomic actions. Its files:

- annotations, `ava_{train,val}_v2.2.csv`: one row per (person box, action), no header,
  `video_id,timestamp,x1,y1,x2,y2,action_id,person_id`, e.g. `-5KQ66BBWC4,0902,0.077,0.151,0.283,
  0.811,80,1`; a box with three actions is three rows. Boxes are normalised to [0, 1] by the
  frame's width and height; the timestamp is in whole seconds of the movie;
- the label map, `ava_action_list_v2.2_for_activitynet_2019.pbtxt` (the 60 classes evaluated)
  or `ava_action_list_v2.1.pbtxt` (all 80): `item { name: "..." id: 1 }` blocks, or
  `label { name: "..." label_id: 1 label_type: PERSON_MOVEMENT }` in the older files;
- excluded timestamps, `ava_{train,val}_excluded_timestamps_v2.2.csv`: `video_id,timestamp` rows
  of key frames left out of training and evaluation;
- person boxes from a detector (PySlowFast's `ava_detection_{train,val}_boxes_and_labels.csv`):
  the annotation layout with a score instead of the person id, `video_id,timestamp,x1,y1,x2,y2,
  action_id,score` (the action usually empty), or without the action column.

Every reader checks each row and names the file and line of one that is malformed. The writers
write the same formats (the synthetic detection set uses them, so the same reader trains on it).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

AVA_FPS = 30  # AVA's frames are extracted at 30 fps
AVA_KEYFRAMES = range(902, 1799)  # the key frames' timestamps, 1 Hz, in each movie's seconds
AVA_START = 900  # PySlowFast cuts each movie to [900, 1800) s: frame 0 of a cut is at 900 s


class AvaBox(NamedTuple):
    """One row of an AVA file: a person box at a key frame, with its action (and score)."""

    video_id: str
    timestamp: int  # seconds
    box: tuple[float, float, float, float]  # x1, y1, x2, y2, normalised to [0, 1]
    action_id: int | None  # None where a file leaves it empty (person boxes)
    person_id: int | None = None  # annotations only
    score: float | None = None  # detections and person boxes only


def _rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    """(line number, fields) of each non-empty line of a CSV file."""
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if row and any(cell.strip() for cell in row):
                yield n, [cell.strip() for cell in row]


def _box(path: Path, n: int, cells: list[str]) -> tuple[float, float, float, float]:
    try:
        x1, y1, x2, y2 = map(float, cells)
    except ValueError:
        raise ValueError(f"{path}, line {n}: the box x1,y1,x2,y2 must be 4 numbers, got "
                         f"{','.join(cells)!r}") from None
    if not (0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1):
        raise ValueError(f"{path}, line {n}: the box {x1},{y1},{x2},{y2} must be normalised, "
                         f"0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1 (pixels? divide by the "
                         f"frame's width and height)")
    return x1, y1, x2, y2


def _integer(path: Path, n: int, what: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}, line {n}: the {what} must be an integer, got {text!r}") from None


def read_annotations(path: str | os.PathLike) -> list[AvaBox]:
    """The rows of an annotation CSV: `video_id,timestamp,x1,y1,x2,y2,action_id,person_id`."""
    path, boxes = Path(path), []
    for n, row in _rows(path):
        if len(row) != 8:
            raise ValueError(f"{path}, line {n}: expected 8 fields, video_id,timestamp,x1,y1,x2,"
                             f"y2,action_id,person_id; got {len(row)}: {','.join(row)!r}")
        boxes.append(AvaBox(row[0], _integer(path, n, "timestamp", row[1]),
                            _box(path, n, row[2:6]), _integer(path, n, "action_id", row[6]),
                            _integer(path, n, "person_id", row[7])))
    return boxes


def read_proposals(path: str | os.PathLike, score_threshold: float = 0.0) -> list[AvaBox]:
    """Person boxes (or detections) with a score, those scoring at least `score_threshold`:
    `video_id,timestamp,x1,y1,x2,y2[,action_id],score` (the action may be empty)."""
    path, boxes = Path(path), []
    for n, row in _rows(path):
        if len(row) not in (7, 8):
            raise ValueError(f"{path}, line {n}: expected video_id,timestamp,x1,y1,x2,y2,"
                             f"[action_id,]score (7 or 8 fields), got {len(row)}: "
                             f"{','.join(row)!r}")
        try:
            score = float(row[-1])
        except ValueError:
            raise ValueError(f"{path}, line {n}: the score must be a number, got "
                             f"{row[-1]!r}") from None
        action = (_integer(path, n, "action_id", row[6]) if len(row) == 8 and row[6] not in
                  ("", "-1") else None)
        if score >= score_threshold:
            boxes.append(AvaBox(row[0], _integer(path, n, "timestamp", row[1]),
                                _box(path, n, row[2:6]), action, score=score))
    return boxes


def read_excluded(path: str | os.PathLike) -> set[tuple[str, int]]:
    """The (video_id, timestamp) key frames an excluded-timestamps CSV leaves out."""
    path, keys = Path(path), set()
    for n, row in _rows(path):
        if len(row) != 2:
            raise ValueError(f"{path}, line {n}: expected video_id,timestamp, got "
                             f"{','.join(row)!r}")
        keys.add((row[0], _integer(path, n, "timestamp", row[1])))
    return keys


_FIELD = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')


def read_label_map(path: str | os.PathLike) -> dict[int, str]:
    """{action id: name} from a label-map `.pbtxt` (`item {name, id}` or `label {name,
    label_id}` blocks), in the file's order."""
    path = Path(path)
    classes: dict[int, str] = {}
    block: dict[str, str] | None = None
    start = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#")[0].strip()
        if not text:
            continue
        if block is None:
            if not re.fullmatch(r"(item|label)\s*\{", text):
                raise ValueError(f"{path}, line {n}: expected `item {{` or `label {{`, got "
                                 f"{text!r}")
            block, start = {}, n
        elif text == "}":
            name, ident = block.get("name") or block.get("display_name"), block.get(
                "id") or block.get("label_id")
            if name is None or ident is None or not ident.isdigit():
                raise ValueError(f"{path}, line {start}: a label needs a name and an integer id "
                                 f"(or label_id), got {block}")
            if int(ident) in classes:
                raise ValueError(f"{path}, line {start}: id {ident} appears twice")
            classes[int(ident)] = name
            block = None
        else:
            m = _FIELD.match(text)
            if not m:
                raise ValueError(f"{path}, line {n}: expected `key: value`, got {text!r}")
            block[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    if block is not None:
        raise ValueError(f"{path}, line {start}: the block is not closed with `}}`")
    if not classes:
        raise ValueError(f"{path}: no labels found (expected `item {{ name: ... id: ... }}`)")
    return classes


def _number(x: float) -> str:
    return f"{x:.3f}"  # AVA's files have 3 decimals


def write_annotations(path: str | os.PathLike, boxes: Iterable[AvaBox]) -> None:
    """Write an annotation CSV (rows with action_id and person_id)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        for b in boxes:
            writer.writerow([b.video_id, f"{b.timestamp:04d}", *map(_number, b.box),
                             b.action_id, b.person_id])


def write_detections(path: str | os.PathLike, boxes: Iterable[AvaBox]) -> None:
    """Write detections or person boxes: `video_id,timestamp,x1,y1,x2,y2,action_id,score`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        for b in boxes:
            writer.writerow([b.video_id, f"{b.timestamp:04d}", *map(_number, b.box),
                             "" if b.action_id is None else b.action_id, f"{b.score:.6f}"])


def write_excluded(path: str | os.PathLike, keys: Iterable[tuple[str, int]]) -> None:
    """Write an excluded-timestamps CSV."""
    Path(path).write_text("".join(f"{v},{t:04d}\n" for v, t in sorted(keys)), encoding="utf-8")


def write_label_map(path: str | os.PathLike, classes: dict[int, str]) -> None:
    """Write a label map `.pbtxt` in the v2.2 style: `item { name: "..." id: N }`."""
    Path(path).write_text("".join(f'item {{\n  name: "{name}"\n  id: {i}\n}}\n'
                                  for i, name in classes.items()), encoding="utf-8")
