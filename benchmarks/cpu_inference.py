"""CPU inference: our SlowFast 8x8 R50 against PyTorchVideo's, same weights, same input.

    python benchmarks/cpu_inference.py                      # batch 1, 224 x 224, 5 repeats
    python benchmarks/cpu_inference.py --steps --json out.json

Builds PyTorchVideo's `slowfast_r50` (random weights, BN statistics randomised so that folding
them is not a no-op), copies the same weights into ours with `convert_state_dict`, and times the
reference, our plain model and our `optimize_for_inference` model in turn, round after round, each
call under `torch.inference_mode()`. Running them alternately means a slow spell of the machine
(another process, a frequency change) hits every model, not just one. Reports the median seconds
per clip, the ratio to the reference (of the medians, and the median of the round-by-round ratios,
which is steadier when the machine is shared), and the largest logit difference from the reference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from tqdm import tqdm

from slowfast_edu.models import build_model
from slowfast_edu.models.convert import convert_state_dict
from slowfast_edu.models.inference import optimize_for_inference

SLOW_FRAMES, ALPHA = 8, 4  # the 8x8 model: 8 Slow frames, 32 Fast frames


def randomise_batchnorm(model: nn.Module, seed: int = 0) -> None:
    """Give every BN a non-trivial gamma, beta, mean and variance, as a trained network has."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.5)  # gamma in [0.5, 1)
                m.bias.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)  # beta in [-0.1, 0.1)
                m.running_mean.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)  # var in [0.5, 1.5)


def build_models(size: int, batch: int = 1, steps: bool = False, compile_: bool = False,
                 seed: int = 0) -> dict[str, nn.Module]:
    """The reference and our models, all holding the same weights, in eval mode."""
    from pytorchvideo.models.hub import slowfast_r50

    # PyTorchVideo's head pools with a fixed window sized for 224-pixel crops; resize it so that
    # it stays a global average (as ours is) at other sizes
    pool = ((SLOW_FRAMES, size // 32, size // 32), (SLOW_FRAMES * ALPHA, size // 32, size // 32))
    reference = slowfast_r50(pretrained=False, head_pool_kernel_sizes=pool).eval()
    randomise_batchnorm(reference, seed)
    ours = build_model("slowfast_8x8_r50").eval()
    ours.load_state_dict(convert_state_dict(reference.state_dict(), source="pytorchvideo"))
    models = {"PyTorchVideo slowfast_r50": reference, "ours": ours}
    if steps:  # each step of optimize_for_inference on its own, to see what it buys
        models["ours, BN folded"] = optimize_for_inference(ours, channels_last=False,
                                                           fuse_relu=False)
        models["ours, BN folded, channels-last"] = optimize_for_inference(ours, fuse_relu=False)
    models["ours, optimize_for_inference"] = optimize_for_inference(ours)
    if compile_:  # what the PyTorch compiler makes of the plain model, for comparison
        models["ours, torch.compile"] = compile_model(ours, size, batch)
    return models


def compile_model(model: nn.Module, size: int, batch: int) -> nn.Module:
    """`torch.compile` with weight freezing (constant-folds BN, prepacks weights), compiled now."""
    import torch._inductor.config

    torch._inductor.config.freezing = True
    compiled = torch.compile(model)
    start = time.perf_counter()
    with torch.inference_mode():
        compiled([torch.zeros(batch, 3, SLOW_FRAMES, size, size),
                  torch.zeros(batch, 3, SLOW_FRAMES * ALPHA, size, size)])
    print(f"torch.compile took {time.perf_counter() - start:.0f} s")
    return compiled


def benchmark(models: dict[str, nn.Module], inputs: list[torch.Tensor], repeats: int,
              warmup: int) -> dict[str, dict]:
    """Time each model `repeats` times, alternating; also the logits' distance to the first."""
    calls: dict[str, Callable[[], torch.Tensor]] = {
        # PyTorchVideo writes each stage's output back into the list it is given: a fresh list
        # per call (the tensors themselves are not modified)
        name: (lambda m=model: m(list(inputs))) for name, model in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    logits: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for round_ in tqdm(range(warmup + repeats), desc="rounds", unit="round"):
            for name, call in calls.items():
                start = time.perf_counter()
                out = call()
                elapsed = time.perf_counter() - start
                if round_ < warmup:
                    logits.setdefault(name, out)
                else:
                    times[name].append(elapsed)
    batch = inputs[0].shape[0]
    reference_name = next(iter(models))
    reference_median = statistics.median(times[reference_name])
    results = {}
    for name in models:
        median = statistics.median(times[name])
        paired = [t / r for t, r in zip(times[name], times[reference_name])]
        results[name] = {
            "median_s_per_clip": median / batch,
            "min_s_per_clip": min(times[name]) / batch,
            "ratio_to_reference": median / reference_median,
            "median_paired_ratio": statistics.median(paired),  # round by round
            "max_abs_logit_diff": (logits[name] - logits[reference_name]).abs().max().item(),
            "times_s": times[name],
        }
    return results


def cpu_name() -> str:
    """The CPU's model name, as `lscpu` prints it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_table(results: dict[str, dict]) -> None:
    """The results side by side."""
    headers = ("model", "median s/clip", "min s/clip", "x reference", "paired x ref",
               "max |logit diff|")
    rows = [(name, f"{r['median_s_per_clip']:.3f}", f"{r['min_s_per_clip']:.3f}",
             f"{r['ratio_to_reference']:.2f}", f"{r['median_paired_ratio']:.2f}",
             f"{r['max_abs_logit_diff']:.1e}") for name, r in results.items()]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224, help="frame height and width")
    parser.add_argument("--batch", type=int, default=1, help="clips per forward pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after warm-up)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--steps", action="store_true",
                        help="also time each step of optimize_for_inference on its own")
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile of our plain model (compiles for minutes)")
    parser.add_argument("--seed", type=int, default=0, help="for the weights and the input")
    parser.add_argument("--json", metavar="PATH", help="save the results here")
    args = parser.parse_args(argv)
    if args.size % 32:
        parser.error(f"--size must be a multiple of 32 (the network downsamples by 32), "
                     f"got {args.size}")
    if args.repeats < 1 or args.warmup < 1:
        parser.error("--repeats and --warmup must be at least 1 (the warm-up gives the logits)")
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(args.seed)
    models = build_models(args.size, args.batch, args.steps, args.compile, args.seed)
    inputs = [torch.randn(args.batch, 3, SLOW_FRAMES, args.size, args.size),
              torch.randn(args.batch, 3, SLOW_FRAMES * ALPHA, args.size, args.size)]
    load_before = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu_name()}, "
          f"{os.cpu_count()} CPUs; input batch {args.batch}, slow {SLOW_FRAMES}x{args.size}^2, "
          f"fast {SLOW_FRAMES * ALPHA}x{args.size}^2; load average {load_before[0]:.2f}")
    results = benchmark(models, inputs, args.repeats, args.warmup)
    load_after = os.getloadavg()
    print_table(results)
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}: "
          f"above {os.cpu_count()} means other processes shared the CPUs")
    record = {
        "benchmark": "cpu_inference",
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "load_average_before_after": [load_before[0], load_after[0]],
        "args": vars(args),
        "results": results,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)
        print(f"saved {args.json}")
    return record


if __name__ == "__main__":
    main()
