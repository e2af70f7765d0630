"""GPU training throughput: our SlowFast 8x8 R50 against PyTorchVideo's, in one harness.

    python benchmarks/gpu_train.py                          # CUDA, batch 16, 224 x 224, bf16
    python benchmarks/gpu_train.py --json out.json --no-compile
    python benchmarks/gpu_train.py --device cpu --size 32 --batch 2 --steps 2 --warmup 1 --no-compile

Measures full training steps (forward, cross-entropy, backward, SGD step) on clips already on the
device, so that the model, not data loading, is what is timed. Every variant runs under the same
autocast precision with the same optimizer, batch and inputs:

    PyTorchVideo slowfast_r50          the reference, as its users run it (eager, NCTHW)
    PyTorchVideo, channels-last + compile   what the same settings buy the reference
    ours                               eager, NCTHW
    ours, channels-last + compile      our best settings (what `slowfast-edu train` uses on CUDA)

Reports clips/s, the ratio to the reference, and the model FLOP utilisation (MFU): the model's
training FLOPs per clip (3 x forward, counted by torch's FlopCounterMode with a multiply-add as
2 FLOPs) times clips/s, over the GPU's peak dense bf16/fp16 rate (`--peak-tflops`, or looked up
from the device name). Target (issue 4): ours at >= 1.3x the reference's clips/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
import copy
from contextlib import nullcontext

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from slowfast_edu.models import build_model
from slowfast_edu.models.convert import convert_state_dict

SLOW_FRAMES, ALPHA = 8, 4
# peak dense tensor-core TFLOPs at 16-bit precision, from the vendors' data sheets
PEAK_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.1, "A10": 125.0,
               "V100": 125.0, "T4": 65.0, "RTX 4090": 165.2, "RTX 3090": 71.0}


def peak_tflops(device: torch.device) -> float | None:
    """The GPU's peak 16-bit dense TFLOPs from its name, or None (a CPU, an unknown GPU)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def build_variants(size: int, frames: int, compile_: bool) -> dict[str, nn.Module]:
    """PyTorchVideo's slowfast_r50 and ours holding the same initial weights."""
    from pytorchvideo.models.hub import slowfast_r50

    pool = ((frames, size // 32, size // 32), (frames * ALPHA, size // 32, size // 32))
    reference = slowfast_r50(pretrained=False, head_pool_kernel_sizes=pool)
    ours = build_model("slowfast_8x8_r50", slow_frames=frames)
    ours.load_state_dict(convert_state_dict(reference.state_dict(), source="pytorchvideo"))
    variants = {"PyTorchVideo slowfast_r50": (reference, False, False), "ours": (ours, False, False)}
    if compile_:
        variants["PyTorchVideo, channels-last + compile"] = (copy.deepcopy(reference), True, True)
        variants["ours, channels-last + compile"] = (copy.deepcopy(ours), True, True)
    return variants


def train_flops_per_clip(model: nn.Module, size: int, frames: int) -> float:
    """3 x the forward FLOPs of one clip (backward is about twice the forward)."""
    meta = copy.deepcopy(model).to("meta").eval()  # counted without memory or compute
    inputs = [torch.zeros(1, 3, frames, size, size, device="meta"),
              torch.zeros(1, 3, frames * ALPHA, size, size, device="meta")]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(inputs)
    return 3.0 * counter.get_total_flops()


def time_training(model: nn.Module, device: torch.device, batch: int, size: int, frames: int,
                  steps: int, warmup: int, dtype: torch.dtype | None, channels_last: bool,
                  compile_: bool) -> list[float]:
    """Seconds per training step, `steps` of them after `warmup` untimed ones."""
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt).train()
    step_model = torch.compile(model) if compile_ else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    g = torch.Generator(device="cpu").manual_seed(0)
    slow = torch.randn(batch, 3, frames, size, size, generator=g)
    fast = torch.randn(batch, 3, frames * ALPHA, size, size, generator=g)
    slow, fast = (x.to(device, memory_format=fmt) for x in (slow, fast))
    labels = torch.randint(0, 400, (batch,), generator=g).to(device)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else nullcontext
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + steps):
        sync()
        start = time.perf_counter()
        with autocast():
            # PyTorchVideo's model writes each stage's output into the list it gets: a fresh list
            loss = nn.functional.cross_entropy(step_model([slow, fast]), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    model.cpu()
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--frames", type=int, default=SLOW_FRAMES, help="Slow frames (Fast: x4)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", choices=["bf16", "fp16", "fp32"], default="bf16")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here (use --device cpu for a smoke run)")
    torch.backends.cudnn.benchmark = True
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[args.precision]
    peak = args.peak_tflops or peak_tflops(device)
    variants = build_variants(args.size, args.frames, args.compile)
    flops = train_flops_per_clip(variants["ours"][0], args.size, args.frames)

    results = {}
    reference = None
    for name, (model, channels_last, compile_) in variants.items():
        times = time_training(model, device, args.batch, args.size, args.frames, args.steps,
                              args.warmup, dtype, channels_last, compile_)
        clips_per_s = args.batch / statistics.median(times)
        reference = reference or clips_per_s
        mfu = flops * clips_per_s / (peak * 1e12) if peak else None
        results[name] = {"clips_per_s": clips_per_s, "ratio_to_reference": clips_per_s / reference,
                         "mfu": mfu, "step_s": times}
        print(f"{name:40s} {clips_per_s:8.1f} clips/s  {clips_per_s / reference:5.2f}x"
              + (f"  MFU {100 * mfu:5.1f}%" if mfu is not None else ""), flush=True)

    report = {
        "date": datetime.date.today().isoformat(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "torch": torch.__version__, "batch": args.batch, "size": args.size,
        "frames": [args.frames, args.frames * ALPHA], "precision": args.precision,
        "train_gflops_per_clip": flops / 1e9, "peak_tflops": peak, "results": results,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
