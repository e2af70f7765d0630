"""App latency: upload a 10-second clip to the running demo and get the top-5 plus Grad-CAM back.

    python benchmarks/app_latency.py                 # 20 rounds, 2 torch threads
    python benchmarks/app_latency.py --repeats 5 --json app_latency.json
    python benchmarks/app_latency.py --repeats 5 --kinetics-repeats 3   # also the K400 R50

Generates a 10-second, 30 fps, 320 x 240 H.264 clip from the synthetic motion set's generator,
launches the app on loopback (`slowfast_edu.app.launch`, the embedded default model), and times,
round after round:

- **app**: `gradio_client` uploads the clip to `/classify` and downloads every output (top-5, the
  two timeline pictures, the MP4): what a user of the page waits for;
- **in-process**: `slowfast_edu.app.analysis.analyse` on the same file, the same work without
  HTTP and Gradio;
- **explain CLI**: `slowfast-edu explain` on the same file (`run_explain`): the path without the
  app's optimisations (it reads the clip's whole index, predicts with the plain model, draws the
  grid with matplotlib and writes a GIF as well as the MP4).

Prints the median and 90th percentile of each and their ratios to the app's.

Then the same for the **Kinetics-400 SlowFast 8x8 R50** (`--kinetics-repeats`, 0 to skip): a
checkpoint with random weights (non-trivial BN) in the zoo's PyTorchVideo layout and 400 class
names are served from a loopback HTTP mirror that the script starts, fetched and checked with
`slowfast_edu.models.download_weights` (the code `slowfast-edu weights download --from` runs) into
a temporary cache, and the app offers the model as it would the real one. Timed: the app's
upload -> top-5 + Grad-CAM (targets <= 10 s) and `slowfast_edu.predict` alone on the same clip
(warm: the model loaded once; target <= 3 s).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import http.server
import io
import json
import os
import platform
import statistics
import tempfile
import threading
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


def kinetics_mirror(folder: Path) -> Path:
    """SLOWFAST_8x8_R50.pyth (random weights, non-trivial BN, the zoo's layout) and the 400
    class names (../shared's list when present, else made-up ones) in `folder`."""
    from slowfast_edu import build_model, convert_state_dict

    model = build_model("slowfast_8x8_r50")
    g = torch.Generator().manual_seed(0)
    for m in model.modules():  # as a trained network's: no zero residual branches
        if isinstance(m, torch.nn.BatchNorm3d):
            n = m.num_features
            m.weight.data, m.bias.data = torch.rand(n, generator=g) + 0.5, torch.randn(n) * 0.1
            m.running_mean, m.running_var = torch.randn(n) * 0.1, torch.rand(n) + 0.5
    folder.mkdir(parents=True, exist_ok=True)
    zoo_layout = convert_state_dict(model.state_dict(), "slowfast_edu", "pytorchvideo")
    torch.save({"model_state": zoo_layout}, folder / "SLOWFAST_8x8_R50.pyth")
    shared = Path(__file__).resolve().parents[1].parent / "shared/kinetics/label_map_k400.txt"
    names = (shared.read_text().splitlines() if shared.is_file()
             else [f"action {i:03d}" for i in range(400)])
    (folder / "kinetics_classnames.json").write_text(
        json.dumps({f'"{n}"' if " " in n else n: i for i, n in enumerate(names)}))
    return folder


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """`folder` over HTTP on 127.0.0.1 (a thread); (server, base URL)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def measure_kinetics(clip: Path, tmp: Path, repeats: int) -> dict:
    """The Kinetics-400 8x8 R50 from the loopback mirror: app and `predict` latencies."""
    from gradio_client import Client, handle_file

    import slowfast_edu as se
    from slowfast_edu.app import launch
    from slowfast_edu.app.menu import KINETICS_LABEL, available_models
    from slowfast_edu.app.ui import build_demo
    from slowfast_edu.models import download_weights

    os.environ["SLOWFAST_EDU_CACHE"] = str(tmp / "cache")
    os.environ["TORCH_HOME"] = str(tmp / "torch")  # nothing from this machine's hub cache
    server, url = serve(kinetics_mirror(tmp / "mirror"))
    try:
        start = time.perf_counter()
        download_weights("slowfast_8x8_r50", url, progress=False)
        fetched = time.perf_counter() - start
    finally:
        server.shutdown()
        server.server_close()
    models = available_models()
    assert KINETICS_LABEL in models
    demo = launch(port=None, demo=build_demo(models=models), prevent_thread_lock=True,
                  quiet=True)
    client = Client(demo.local_url, verbose=False, analytics_enabled=False,
                    download_files=str(tmp / "downloads"))
    runs: dict[str, list[float]] = {"app": [], "predict": []}
    try:
        start = time.perf_counter()
        first = se.predict(clip, "slowfast_8x8_r50")  # loads the model: the cold call
        cold = time.perf_counter() - start
        assert len(first.top5) == 5 and first.in_domain is None  # its check is off
        label = client.predict(handle_file(str(clip)), KINETICS_LABEL, api_name="/classify")[0]
        assert len(label["confidences"]) == 5  # warm-up: the app's copy of the model loads
        for _ in range(repeats):
            start = time.perf_counter()
            client.predict(handle_file(str(clip)), KINETICS_LABEL, api_name="/classify")
            runs["app"].append(time.perf_counter() - start)
            start = time.perf_counter()
            se.predict(clip, "slowfast_8x8_r50")
            runs["predict"].append(time.perf_counter() - start)
    finally:
        demo.close()
    return {"runs": runs, "download_and_check_s": fetched, "predict_cold_s": cold,
            "median": {k: statistics.median(v) for k, v in runs.items()}}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed rounds")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--kinetics-repeats", type=int, default=3,
                        help="timed rounds of the Kinetics-400 8x8 R50 (0: skip it)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from gradio_client import Client, handle_file

    from slowfast_edu.app import launch
    from slowfast_edu.app.analysis import analyse
    from slowfast_edu.app.menu import DEFAULT_LABEL, available_models
    from slowfast_edu.app.ui import build_demo
    from slowfast_edu.explain.cli import add_explain_arguments

    with tempfile.TemporaryDirectory(prefix="app_latency_") as tmp:
        tmp = Path(tmp)
        # gradio_client downloads each output through a folder of its own in the temp folder
        # and leaves it there, empty: this run's temp folder is inside ours, removed with it
        (tmp / "tmp").mkdir()
        tempfile.tempdir = str(tmp / "tmp")
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
        kinetics = (measure_kinetics(clip, tmp, args.kinetics_repeats)
                    if args.kinetics_repeats else None)
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
    if kinetics:
        k_app, k_predict = kinetics["median"]["app"], kinetics["median"]["predict"]
        print(f"\nKinetics-400 SlowFast 8x8 R50 (random weights from the loopback mirror, "
              f"downloaded and checked in {kinetics['download_and_check_s']:.1f} s), "
              f"{args.kinetics_repeats} rounds:")
        for name, times in kinetics["runs"].items():
            print(f"{name:12s} {statistics.median(times):9.3f} {percentile(times, 90):7.3f}")
        print(f"predict, first call (loads the model): {kinetics['predict_cold_s']:.2f} s")
        print(f"target: app median <= 10 s: {'met' if k_app <= 10 else 'NOT met'}; "
              f"predict median <= 3 s: {'met' if k_predict <= 3 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.date.today().isoformat(), "threads": args.threads,
            "load_average": load, "runs": runs, "steps": breakdown,
            "median": {k: statistics.median(v) for k, v in runs.items()},
            "p90": {k: percentile(v, 90) for k, v in runs.items()},
            "kinetics": kinetics}, indent=2))


if __name__ == "__main__":
    main()
