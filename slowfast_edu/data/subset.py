"""Build a small Kinetics subset: N classes x M videos, trimmed, resized, listed as PySlowFast CSVs.

    slowfast-edu data kinetics-subset --annotations kinetics-400_val.csv --classes 5 \\
        --per-class 20 --out k400-5x20 --source /data/kinetics400      # or --download

What it decides, and how:
- Classes: `--classes N` takes the first N classes in alphabetical order (Kinetics class ids are
  alphabetical); `--classes "archery,yoga"` or a label-map file names them. Labels in the subset
  are the chosen classes in alphabetical order, 0..N-1 (`classnames.json`).
- Videos: the first M rows of each class in file order (deterministic). If the CSV has both train
  and val rows, M per class from each. If it has one split only (e.g. the val CSV), or
  `--val-fraction` is given, each class's M videos are split: the last round(M x fraction)
  (default 0.2, at least 1 when M >= 2) go to val. Unavailable ids are not replaced by later rows:
  a class may end up with fewer than M (the summary and `unavailable.csv` say which).
- Sources (`_fetch`): `--source DIR`, a local copy (trimmed `{id}_{start:06d}_{end:06d}.mp4` or
  whole `{id}.mp4` files, flat or in folders); or `--download` from `--url-template`, with yt-dlp
  (an optional extra: pip install yt-dlp), or with urllib when the template links to a video file
  (`http://host/{youtube_id}.mp4`) or `--direct` says so.
- Each video is cut to its annotated window and resized to short side 256, even when that scales
  it up, as the reference preprocessing does (`_trim.trim_resize`, which also says when a file is
  taken to be already cut). Output: `videos/{class}/{id}_{start:06d}_{end:06d}.mp4`, the class
  folder being the class name with whitespace and characters Windows forbids replaced by `_`
  (PySlowFast splits CSV lines on spaces, so paths must have none).
- Unavailable videos (HTTP 404, "Video unavailable", not in the local copy, a file that does not
  decode) are recorded and skipped; anything else (a bug, a full disk) stops the run.
- Resumable: a video whose output exists is skipped, and so is an id listed in `unavailable.csv`
  (unless `--retry-unavailable`). Outputs appear atomically (`.part`, then a rename).
- Parallel: `--workers` threads (PyAV lets go of the GIL while it decodes and encodes), a tqdm bar.
- In `--out`: `train.csv` and `val.csv` (`videos/class/file.mp4 label`, relative to `--out`, the
  format `KineticsDataset` reads), `classnames.json`, and `unavailable.csv` (youtube_id, label,
  reason).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import av
from tqdm.auto import tqdm

from ._fetch import YOUTUBE_URL, VideoUnavailable, make_source
from ._plan import SPLITS, Clip, choose_classes, plan_subset, read_annotations, safe_name
from ._trim import CRF, trim_resize
from .video import VideoDecodeError

__all__ = ["Clip", "SubsetReport", "add_subset_arguments", "build_subset", "choose_classes",
           "plan_subset", "read_annotations", "run_subset", "safe_name"]


@dataclass
class SubsetReport:
    """What a run left in the output folder: the videos per split and the unavailable ones."""

    out: Path
    classnames: list[str]
    videos: dict[str, list[Clip]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    unavailable: list[tuple[Clip, str]] = field(default_factory=list)
    made: int = 0  # videos written by this run (the others were there already)

    def summary(self) -> str:
        """A few lines for people: counts per split, and where the lists are."""
        lines = [f"Kinetics subset in {self.out}: {len(self.classnames)} classes, "
                 f"{self.made} videos made now"]
        for split in SPLITS:
            gone = sum(c.split == split for c, _ in self.unavailable)
            lines.append(f"  {split + ':':6s} {len(self.videos[split]):5d} videos, "
                         f"{gone} unavailable")
        if self.unavailable:
            lines.append(f"unavailable ids and why: {self.out / 'unavailable.csv'}")
        return "\n".join(lines)


def build_subset(annotations: str | os.PathLike, out: str | os.PathLike, classes: str | int,
                 per_class: int, source: str | os.PathLike | None = None, download: bool = False,
                 url_template: str = YOUTUBE_URL, direct: bool = False,
                 val_fraction: float | None = None, short_side: int = 256, crf: int = CRF,
                 workers: int = 2, retry_unavailable: bool = False, timeout: float = 60.0,
                 progress: bool = True) -> SubsetReport:
    """Make (or complete) the subset in `out`; see the module docstring."""
    if short_side < 0 or short_side % 2 or workers < 1:
        raise ValueError(f"need an even --short-side >= 0 (0: keep the size) and --workers >= 1, "
                         f"got {short_side} and {workers}")
    rows = read_annotations(annotations)
    names = choose_classes([r.label for r in rows], classes)
    plan = plan_subset(rows, names, per_class, val_fraction)
    fetcher = make_source(source, download, url_template, direct, timeout)
    out = Path(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "classnames.json", json.dumps(names, indent=1) + "\n")
    known = {} if retry_unavailable else _read_unavailable(out / "unavailable.csv")
    failed = {c: known[c.youtube_id] for c in plan
              if c.youtube_id in known and not (out / c.path).exists()}
    todo = [c for c in plan if c not in failed and not (out / c.path).exists()]
    report = SubsetReport(out, names)
    workdir = out / ".downloads"
    workdir.mkdir(exist_ok=True)
    for stale in [*workdir.iterdir(), *(out / "videos").rglob("*.part")]:  # from a killed run
        stale.unlink()
    # Threads suffice: PyAV releases the GIL to demux, decode, scale and encode; urllib waits.
    pool = ThreadPoolExecutor(max_workers=workers)
    threads = max(1, (os.cpu_count() or 1) // workers)  # FFmpeg threads per video: share the cores
    try:
        futures = {pool.submit(_make_one, c, fetcher, out, workdir, short_side, crf, threads): c
                   for c in todo}
        with tqdm(total=len(todo), desc="kinetics subset", unit="video", disable=not progress,
                  dynamic_ncols=True) as bar:
            for future in as_completed(futures):
                reason = future.result()
                if reason is None:
                    report.made += 1
                else:
                    failed[futures[future]] = reason
                bar.update()
                bar.set_postfix(made=report.made, unavailable=len(failed), refresh=False)
    finally:  # also when interrupted: list what is done, so that the next run resumes from there
        pool.shutdown(wait=True, cancel_futures=True)
        for clip in plan:
            if (out / clip.path).exists():
                report.videos[clip.split].append(clip)
            elif clip in failed:
                report.unavailable.append((clip, failed[clip]))
        _write_outputs(report, names)
        if workdir.is_dir() and not any(workdir.iterdir()):
            workdir.rmdir()
    return report


def _make_one(clip: Clip, fetcher, out: Path, workdir: Path, short_side: int, crf: int,
              threads: int) -> str | None:
    """Fetch, cut and resize one video; None when done, else the reason it is unavailable."""
    fetched = None
    try:
        fetched = fetcher.fetch(clip, workdir)
        trim_resize(fetched.path, out / clip.path, clip.start, clip.end, short_side,
                    fetched.trimmed, crf, threads)
        return None
    except (VideoUnavailable, VideoDecodeError) as e:
        return str(e)
    except av.FFmpegError as e:
        return f"cannot convert {clip.name}: {e}"
    finally:
        if fetched is not None and fetcher.temporary:
            fetched.path.unlink(missing_ok=True)


def _read_unavailable(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {row["youtube_id"]: row["reason"] for row in csv.DictReader(f)}


def _write_atomic(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def _write_outputs(report: SubsetReport, names: list[str]) -> None:
    label = {name: i for i, name in enumerate(names)}
    for split in SPLITS:
        _write_atomic(report.out / f"{split}.csv",
                      "".join(f"{c.path} {label[c.label]}\n" for c in report.videos[split]))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(
        [("youtube_id", "label", "reason")] +
        [(c.youtube_id, c.label, reason) for c, reason in report.unavailable])
    _write_atomic(report.out / "unavailable.csv", text.getvalue())


def add_subset_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `kinetics-subset` options to `parser` (and `func=run_subset`); return it."""
    add = parser.add_argument
    add("--annotations", required=True, metavar="CSV",
        help="official Kinetics annotation CSV (label,youtube_id,time_start,time_end,split)")
    add("--classes", required=True, metavar="N|NAMES|FILE",
        help="the first N classes alphabetically, or 'name,name,...', or a label-map file")
    add("--per-class", required=True, type=int, metavar="M",
        help="videos per class (per split when the CSV has train and val rows)")
    add("--out", required=True, metavar="DIR", help="output folder (rerun to resume)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--source", metavar="DIR", help="a local Kinetics copy")
    where.add_argument("--download", action="store_true",
                       help="download (yt-dlp, or urllib for direct links to video files)")
    add("--url-template", default=YOUTUBE_URL,
        help="URL of a video, with {youtube_id} (and {start}, {end}) (default: %(default)s)")
    add("--direct", action="store_true",
        help="the URL template links to video files: fetch with urllib, not yt-dlp")
    add("--val-fraction", type=float, default=None, metavar="F",
        help="split each class's M videos into train/val by this fraction (default: the CSV's "
             "splits if it has train and val rows, else 0.2)")
    add("--short-side", type=int, default=256, help="resize to this short side; 0 keeps the size")
    add("--crf", type=int, default=CRF, help="H.264 quality, lower is better (%(default)s)")
    add("--workers", type=int, default=min(4, os.cpu_count() or 1),
        help="videos made in parallel (default: %(default)s)")
    add("--timeout", type=float, default=60.0, help="seconds before a download gives up")
    add("--retry-unavailable", action="store_true", help="try ids listed unavailable again")
    parser.set_defaults(func=run_subset)
    return parser


def run_subset(args: argparse.Namespace) -> int:
    """Run `kinetics-subset` with parsed arguments; 0 when done, 1 when no video could be made,
    2 on bad input (the message says what)."""
    try:
        report = build_subset(
            args.annotations, args.out, args.classes, args.per_class, source=args.source,
            download=args.download, url_template=args.url_template, direct=args.direct,
            val_fraction=args.val_fraction, short_side=args.short_side, crf=args.crf,
            workers=args.workers, retry_unavailable=args.retry_unavailable, timeout=args.timeout)
    except (FileNotFoundError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if any(report.videos.values()) else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m slowfast_edu.data.subset ...`: the same as `slowfast-edu data kinetics-subset`."""
    parser = argparse.ArgumentParser(prog="kinetics-subset", description=__doc__.split("\n")[0])
    return run_subset(add_subset_arguments(parser).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
