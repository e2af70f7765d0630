"""App latency: upload a 10-second clip to the running demo and get the top-5 plus Grad-CAM back.

    python benchmarks/app_latency.py                 # 20 rounds, 2 torch threads
    python benchmarks/app_latency.py --repeats 5 --json app_latency.json

Generates a 10-second, 30 fps, 320 x 240 H.264 clip from the synthetic motion set's generator,
launches the app on loopback (`slowfast_edu.app.launch`, the embedded default model), and times,
round after round:

- **app**: `gradio_client` uploads the clip to `/classify` and downloads every output (top-5, the
  two timeline pictures, the MP4): what a user of the page waits for;
- **in-process**: `slowfast_edu.app.inference.analyse` on the same file, the same work without
  HTTP and Gradio;
- **explain CLI**: `slowfast-edu explain` on the same file (`run_explain`): the path without the
  app's optimisations (it reads the clip's whole index, predicts with the plain model, draws the
  grid with matplotlib and writes a GIF as well as the MP4).

Prints the median and 90th percentile of each and their ratios to the app's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SECONDS, FPS, HEIGHT, WIDTH = 10, 30, 240, 320


def make_clip(path: Path) -> Path:
    """A 10-s, 30 fps, 320 x 240 H.264 clip: a blue square gliding right on the synthetic
    set's textured background (its generator draws squares; the extra width repeats its left)."""
    from slowfast_edu.data.synthetic import generate_clip, write_video

    frames = generate_clip(3, seed=0, num_frames=SECONDS * FPS, size=HEIGHT)  # (T, 240, 240, 3)
    frames = np.concatenate([frames, frames[:, :, :WIDTH - HEIGHT]], axis=2)  # (T, 240, 320, 3)
    write_video(path, frames, fps=FPS)
    return path


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed rounds")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from gradio_client import Client, handle_file

    from slowfast_edu.app import launch
    from slowfast_edu.app.inference import analyse
    from slowfast_edu.app.models import DEFAULT_LABEL, available_models
    from slowfast_edu.app.ui import build_demo
    from slowfast_edu.explain.cli import add_explain_arguments

    with tempfile.TemporaryDirectory(prefix="app_latency_") as tmp:
        tmp = Path(tmp)
        clip = make_clip(tmp / "ten_seconds.mp4")
        models = available_models()
        demo = launch(port=None, demo=build_demo(models=models), prevent_thread_lock=True,
                      quiet=True)
        client = Client(demo.local_url, verbose=False, analytics_enabled=False,
                        download_files=str(tmp / "downloads"))
        explain = add_explain_arguments(argparse.ArgumentParser())
        explain_args = explain.parse_args([str(clip), "--out", str(tmp / "explain")])

        def via_app() -> None:
            label = client.predict(handle_file(str(clip)), DEFAULT_LABEL,
                                   api_name="/classify")[0]
            assert len(label["confidences"]) == 5

        def in_process() -> None:
            analyse(models[DEFAULT_LABEL], clip, tmp)

        def explain_cli() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                assert explain_args.func(explain_args) == 0

        runs: dict[str, list[float]] = {"app": [], "in-process": [], "explain CLI": []}
        steps: list[dict[str, float]] = []
        jobs = {"app": via_app, "in-process": in_process, "explain CLI": explain_cli}
        try:
            for job in jobs.values():  # warm-up: model loads, first oneDNN calls, imports
                job()
            for _ in range(args.repeats):  # in turn, so a slow spell hits every path
                for name, job in jobs.items():
                    start = time.perf_counter()
                    job()
                    runs[name].append(time.perf_counter() - start)
                steps.append(analyse(models[DEFAULT_LABEL], clip, tmp).seconds)
        finally:
            demo.close()
    load = os.getloadavg()
    print(f"{SECONDS}-s clip, {FPS} fps, {WIDTH}x{HEIGHT}; default model; {args.repeats} rounds; "
          f"{args.threads} torch threads; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    app = statistics.median(runs["app"])
    print(f"{'path':12s} {'median s':>9s} {'p90 s':>7s} {'x app':>6s}")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"{name:12s} {median:9.3f} {percentile(times, 90):7.3f} {median / app:6.2f}")
    breakdown = {k: statistics.median(s[k] for s in steps if k in s) for k in steps[0]}
    print("in-process steps (median s): "
          + ", ".join(f"{k} {v:.3f}" for k, v in breakdown.items()))
    print(f"target: app median <= 2 s: {'met' if app <= 2 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.date.today().isoformat(), "threads": args.threads,
            "load_average": load, "runs": runs, "steps": breakdown,
            "median": {k: statistics.median(v) for k, v in runs.items()},
            "p90": {k: percentile(v, 90) for k, v in runs.items()}}, indent=2))


if __name__ == "__main__":
    main()
