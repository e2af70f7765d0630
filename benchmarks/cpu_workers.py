"""CPU training throughput: one process with all the threads, or one process per core.

    python benchmarks/cpu_workers.py                     # slowfast_tiny, as notebook 09 trains it
    python benchmarks/cpu_workers.py --steps 20 --json out.json

Why: `run_ablation(workers=N)` (notebook 09) trains N variants at once, one process each with
cores / N threads, instead of one after the other with all the threads. This measures what that
buys: training steps of `slowfast_tiny` (8 clips of 4 + 16 frames at 48 x 48, as in
configs/synthetic_tiny_cpu.yaml; channels-last, as the trainer does) per second of wall time,
(a) one process, `cores` threads, then (b) `cores` processes of one thread each, all stepping at
once. Each process builds its model and batch and takes `--warmup` untimed steps first, and they
all start timing together (a barrier), so start-up is not counted; in clips per second, for each
batch size (`--batch 8 16`: on one thread PyTorch runs the 1x1 convolutions of a batch under 16
clips with its native kernels instead of oneDNN's). More clips per second means more variants
trained per minute.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import time

import torch
from torch import nn

from slowfast_edu.models import build_model

CL = torch.channels_last_3d


def steps(threads: int, count: int, warmup: int, barrier=None, batch: int = 8) -> float:
    """Seconds for `count` training steps of slowfast_tiny with `threads` torch threads."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model("slowfast_tiny", num_classes=6).train().to(memory_format=CL)
    inputs = [torch.randn(batch, 3, frames, 48, 48).contiguous(memory_format=CL)
              for frames in (model.cfg.slow_frames, model.cfg.fast_frames)]
    labels = torch.randint(0, 6, (batch,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(list(inputs)), labels).backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    if barrier is not None:
        barrier.wait()
    start = time.perf_counter()
    for _ in range(count):
        step()
    return time.perf_counter() - start


def _worker(args: tuple) -> float:
    count, warmup, barrier, batch = args
    return steps(1, count, warmup, barrier, batch)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, nargs="+", default=[8, 16],
                        help="clips per step (each is measured both ways)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    context = multiprocessing.get_context("spawn")
    rows = []
    for batch in args.batch:
        one = steps(args.cores, args.steps, args.warmup, batch=batch)
        with context.Manager() as manager:
            barrier = manager.Barrier(args.cores)
            with context.Pool(args.cores) as pool:
                each = pool.map(_worker, [(args.steps, args.warmup, barrier, batch)] * args.cores)
        rows.append({"batch": batch, "one_process_clips_per_s": batch * args.steps / one,
                     "processes_clips_per_s": args.cores * batch * args.steps / max(each)})
    base = rows[0]["one_process_clips_per_s"]
    results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "cpu": platform.processor() or platform.machine(), "cores": args.cores,
               "torch": torch.__version__, "steps": args.steps, "rows": rows,
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    print(f"slowfast_tiny, 48 x 48, {args.steps} timed steps per process; clips per second of "
          f"wall time (x the first row's one process)")
    print(f"{'batch':>5s} {f'1 process x {args.cores} threads':>24s} "
          f"{f'{args.cores} processes x 1 thread':>24s}")
    for row in rows:
        a, b = row["one_process_clips_per_s"], row["processes_clips_per_s"]
        print(f"{row['batch']:5d} {a:15.1f} ({a / base:4.2f}x) {b:15.1f} ({b / base:4.2f}x)")
    print(f"load average before {results['load_average_before']}, after "
          f"{results['load_average_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
