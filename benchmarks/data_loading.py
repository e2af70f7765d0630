"""Training clips per second, per worker: our loader against decoding every frame with PyAV.

Both sides produce the same thing: a random 32-frame view at stride 2 (a 64-frame window at
30 fps), short side jittered in [256, 320], a random 224 crop, flipped, normalised, packed into
[slow, fast]. Ours seeks to the window and decodes only up to its last frame (decord where it is
exact, PyAV otherwise); the baseline decodes the whole video with PyAV and then picks the frames,
as naive loaders do. One process, one decode thread each: the rate of one DataLoader worker.

    python benchmarks/data_loading.py [--clips DIR] [--views 40] [--repeats 3] [--json out.json]

Without --clips it reads ../shared/clips when present, else it generates 10-second test videos.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from slowfast_edu.data import (KineticsDataset, VideoReader, pack_pathways, sample_indices,
                               train_transform)

REPO = Path(__file__).resolve().parents[1]
SUFFIXES = (".mp4", ".mkv", ".avi", ".webm")


def find_clips(folder: Path | None) -> list[Path]:
    """The benchmark's videos: a folder's, ../shared/clips', or generated 10-s clips."""
    folder = folder or REPO.parent / "shared" / "clips"
    if folder.is_dir():
        return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
    out = Path(tempfile.mkdtemp(prefix="slowfast_bench_"))
    rng = np.random.default_rng(0)
    for i in range(4):
        with av.open(str(out / f"clip{i}.mp4"), "w") as container:
            stream = container.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = 340, 256, "yuv420p"
            base = rng.integers(0, 255, (256, 340, 3), dtype=np.uint8)
            for t in range(300):
                frame = np.roll(base, 3 * t, axis=1)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
    return sorted(out.glob("*.mp4"))


def baseline_view(path: Path, transform) -> list[torch.Tensor]:
    """Decode every frame with PyAV, then sample and augment like ours."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type, stream.codec_context.thread_count = "SLICE", 1
        fps = float(stream.average_rate)
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
    index = sample_indices(len(frames), fps, 32, 2)
    clip = transform(torch.from_numpy(frames[index.numpy()]))
    return pack_pathways(clip, 4)


def rate(fn, views: int) -> float:
    start = time.perf_counter()
    for i in range(views):
        fn(i)
    return views / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=None)
    parser.add_argument("--views", type=int, default=40, help="views per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # one worker = one core
    clips = find_clips(args.clips)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "train.csv"
        listing.write_text("".join(f"{p} 0\n" for p in clips))
        ours = KineticsDataset(listing, mode="train", num_frames=32, sampling_rate=2, alpha=4)
        transform = train_transform()
        runs = {"ours": [], "baseline": []}
        ours[0], baseline_view(clips[0], transform)  # warm-up
        for _ in range(args.repeats):  # alternate, so drifts in machine speed hit both alike
            runs["ours"].append(rate(lambda i: ours[i % len(ours)], args.views))
            runs["baseline"].append(rate(lambda i: baseline_view(clips[i % len(clips)],
                                                                 transform), args.views))
        backends = sorted({VideoReader(p).backend for p in clips})
    result = {name: statistics.median(r) for name, r in runs.items()}
    result["ratio"] = result["ours"] / result["baseline"]
    print(f"{len(clips)} videos, {args.views} views x {args.repeats} repeats, 1 thread, "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}")
    print(f"decoders used by ours: {', '.join(backends)}")
    print(f"{'loader':10s} {'clips/s':>8s}   runs")
    for name in ("ours", "baseline"):
        print(f"{name:10s} {result[name]:8.2f}   {', '.join(f'{r:.2f}' for r in runs[name])}")
    print(f"ours / baseline: {result['ratio']:.2f}x (target >= 2x)")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, **result}, indent=2))


if __name__ == "__main__":
    main()
