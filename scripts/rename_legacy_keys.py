"""Rename the keys of a saved model from an older slowfast-edu layout to the current one.

Since issue 14 the lateral connection after pool1 is keyed `laterals.pool1.` (the paper's name)
instead of `laterals.stem.`; `slowfast_edu.models.convert.LEGACY_KEYS` lists every such rename.
This rewrites a file in place (or to --out): an exported model (`export_int8`, e.g. the
embedded slowfast_edu/assets/default_model.pt), a trainer checkpoint (`last.pt`, `best.pt`) or a
bare state dict. Tensors are not touched, only their names.

    .venv/bin/python scripts/rename_legacy_keys.py slowfast_edu/assets/default_model.pt
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from slowfast_edu.models.convert import LEGACY_KEYS, rename_legacy_keys


def rename_file(path: Path, out: Path | None = None) -> int:
    """Rename the legacy keys of the file at `path` (written to `out`, or in place); how many."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    holder = saved if isinstance(saved.get("model_state"), dict) else None
    state = holder["model_state"] if holder is not None else saved
    renamed = rename_legacy_keys(state)
    count = sum(old != new for old, new in zip(state, renamed))
    if holder is not None:
        holder["model_state"] = renamed
    else:
        saved = renamed
    out = out or path
    part = out.with_name(out.name + ".part")
    torch.save(saved, part)
    os.replace(part, out)  # atomic: the file is either the old one or the new one
    return count


def main() -> None:
    """Command line: one file, renamed in place or to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="write here instead of in place")
    args = parser.parse_args()
    count = rename_file(args.path, args.out)
    renames = ", ".join(f"{old}* -> {new}*" for old, new in LEGACY_KEYS.items())
    print(f"{args.out or args.path}: {count} key(s) renamed ({renames})")


if __name__ == "__main__":
    main()
