"""Check the default model that `make default-model` just exported against its goals.

    python scripts/check_default_model.py [slowfast_edu/assets/default_model.pt]

Goals: validation top-1 >= 95% on the synthetic set (its best epoch), the domain check accepts
>= 99% of the 120 held-out clips of generator seed 1, the file <= 4 MiB. Exit 1 with the reasons
when one is missed; exit 2 naming the file when it cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from slowfast_edu.models import CheckpointError
from slowfast_edu.models.default import DEFAULT_MODEL, load_exported


def main(path: Path) -> int:
    try:
        model = load_exported(path)
    except (OSError, CheckpointError) as e:  # missing, unreadable or not an exported model
        print(f"error: cannot check {path}: {e}", file=sys.stderr)
        return 2
    info, domain = model.info, model.domain
    size = path.stat().st_size / 2**20
    print(f"{path}: val top-1 {100 * info['best_top1']:.1f}%, held-out clips accepted "
          f"{100 * domain.info['heldout_accepted']:.1f}% of {domain.info['heldout_views']}, "
          f"{size:.2f} MiB")
    missed = [goal for goal, met in [
        ("val top-1 >= 95%", info["best_top1"] >= 0.95),
        ("held-out acceptance >= 99%", domain.info["heldout_accepted"] >= 0.99),
        ("file <= 4 MiB", size <= 4)] if not met]
    if missed:
        print("missed: " + "; ".join(missed), file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL))
