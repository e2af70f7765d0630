"""Class names from a label map: the one parser of the formats models and datasets come with.

A label map lists a model's classes in id order, in any of three forms: PySlowFast's JSON object
`{"name": id, ...}` (multi-word names wrapped in literal quotes, as Kinetics' are), a JSON list of
names, or a text file with one name per line. Imports nothing of the package: both `models`
(checkpoints' class names) and `data` (a dataset's classes) read label maps here.
"""

from __future__ import annotations

import json
from pathlib import Path

_LISTED = 10  # problems of each kind spelled out in an error


def load_label_map(path: str | Path, num_classes: int | None = None) -> list[str]:
    """Class names in id order from a label map: PySlowFast's JSON `{name: id}` (names wrapped in
    literal quotes are unwrapped), a JSON list, or a text file with one name per line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read class names from {path}: {e}") from None
    if text.lstrip().startswith(("{", "[")):
        try:
            table = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"cannot read class names from {path}: {e}") from None
        names = _from_json(table, path)
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ValueError(f"{path} holds no class names")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path} names a class more than once: {repeated[:_LISTED]}")
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(f"{path} lists {len(names)} class names; the model predicts "
                         f"{num_classes} classes")
    return names


def _from_json(table: object, path: Path) -> list[str]:
    if isinstance(table, list) and all(isinstance(n, str) for n in table):
        return [n.strip().strip('"') for n in table]
    if not isinstance(table, dict) or not all(type(i) is int for i in table.values()):
        raise ValueError(f"{path} is not a class-name table: expected PySlowFast's JSON object "
                         f'{{"name": id, ...}} with integer ids, a JSON list of names, or one '
                         f"name per line")
    ids = sorted(table.values())
    if ids != list(range(len(table))):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        absent = sorted(set(range(len(table))) - set(ids))
        raise ValueError(f"{path}: class ids must be 0..{len(table) - 1}, each once; duplicated: "
                         f"{duplicates[:_LISTED]}, missing: {absent[:_LISTED]}")
    names = [""] * len(table)
    for name, i in table.items():
        names[i] = name.strip().strip('"')  # multi-word names come wrapped in literal quotes
    return names
