"""CPU training speed: our tiny and R50 SlowFasts against the same networks built by PyTorchVideo.

    python benchmarks/cpu_train.py                      # both models, 2 threads (torch's default)
    python benchmarks/cpu_train.py --models tiny --rounds 20 --json out.json
    python benchmarks/cpu_train.py --models tiny --rounds 2 --warmup 1 --batch 2   # a quick check

What is timed: full training steps (forward, cross-entropy, backward, a Nesterov SGD step) on clips
already in memory, so the network is what is measured, not data loading. Each pair holds the same
weights (PyTorchVideo's, converted with `convert_state_dict`; checked: the same logits) and gets
the same batch:

    tiny   slowfast_tiny, the teaching model of notebooks 05 and 09 (1 bottleneck per stage, width
           32, alpha 4, res5 stride 1 and dilation 2), 8 clips of 16 Fast frames at 48 x 48, as in
           configs/synthetic_tiny_cpu.yaml; PyTorchVideo's `create_slowfast` with the same
           stages, widths, kernels, strides and dilations
    r50    slowfast_8x8_r50 against PyTorchVideo's `slowfast_r50`, 2 clips of 32 Fast frames at
           112 x 112 (224 x 224 takes ~10 s a step on 2 cores)

Variants: PyTorchVideo as its users run it (the reference) and in channels-last memory
(`torch.channels_last_3d` for the weights and the clips); ours in channels-last memory, which is
what `slowfast-edu train` does (`train.channels_last`), with the stems' plain conv and with what
our stems do when training on CPU (`models.stem.frames_as_channels`: a kt x 7 x 7 conv as a
1 x 7 x 7 conv over the kt shifted frames stacked on the channel axis, the same sums). The
variants run in turn, one step each per round, so a busy spell of the machine hits all of them;
the ratio is the median over rounds of (reference time / variant time) in the same round: > 1 is
faster than the reference.
Target (issue 13): our training step >= 1.2x the reference's.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from slowfast_edu.models import build_model
from slowfast_edu.models.convert import convert_state_dict
from slowfast_edu.models.stem import Stem

CL = torch.channels_last_3d


def reference_tiny(num_classes: int, size: int) -> nn.Module:
    """PyTorchVideo's build of slowfast_tiny (its `model_depth=18` has one block per stage)."""
    from pytorchvideo.models.slowfast import create_slowfast

    cells = size // 16  # conv1 and pool1 halve twice, res3 and res4 halve; res5 keeps res4's
    return create_slowfast(
        slowfast_channel_reduction_ratio=8, slowfast_conv_channel_fusion_ratio=2,
        slowfast_fusion_conv_kernel_size=(5, 1, 1), slowfast_fusion_conv_stride=(4, 1, 1),
        model_depth=18, model_num_class=num_classes, stem_dim_outs=(32, 4),
        stage_conv_b_dilations=(((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2)),
                                ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 2, 2))),
        stage_spatial_strides=((1, 2, 2, 1), (1, 2, 2, 1)),
        head_pool_kernel_sizes=((4, cells, cells), (16, cells, cells)))


def reference_r50(num_classes: int, size: int, frames: int) -> nn.Module:
    """PyTorchVideo's hub slowfast_r50 with its head pooling sized for the input."""
    from pytorchvideo.models.hub import slowfast_r50

    cells = -(-size // 32)  # each stride-2 layer rounds up: 112 -> 56 -> 28 -> 14 -> 7 -> 4
    return slowfast_r50(pretrained=False, model_num_class=num_classes,
                        head_pool_kernel_sizes=((frames, cells, cells),
                                                (frames * 4, cells, cells)))


def pair(model: str, num_classes: int, size: int, frames: int) -> tuple[nn.Module, nn.Module]:
    """(PyTorchVideo's network, ours holding the same weights), checked to agree."""
    torch.manual_seed(0)
    if model == "tiny":
        reference = reference_tiny(num_classes, size)
        ours = build_model("slowfast_tiny", num_classes=num_classes)
    else:
        reference = reference_r50(num_classes, size, frames)
        ours = build_model("slowfast_8x8_r50", num_classes=num_classes, slow_frames=frames)
    ours.load_state_dict(convert_state_dict(reference.state_dict(), source="pytorchvideo"))
    inputs = [torch.randn(1, 3, ours.cfg.slow_frames, size, size),
              torch.randn(1, 3, ours.cfg.fast_frames, size, size)]
    with torch.no_grad():
        difference = (reference.eval()(list(inputs)) - ours.eval()(inputs)).abs().max()
    if difference > 1e-4:
        raise SystemExit(f"{model}: our network and PyTorchVideo's disagree ({difference:.2g})")
    return reference, ours


def training_step(model: nn.Module, optimizer: torch.optim.Optimizer, inputs: list[torch.Tensor],
                  labels: torch.Tensor) -> float:
    """One timed step: forward, loss, backward, optimizer step; seconds."""
    start = time.perf_counter()
    # PyTorchVideo's model writes each stage's output into the list it gets: a fresh list
    loss = nn.functional.cross_entropy(model(list(inputs)), labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def benchmark(model: str, batch: int, size: int, frames: int, rounds: int, warmup: int,
              num_classes: int = 6) -> dict:
    """Median seconds per step and the ratios to the reference, for one model's variants."""
    reference, ours = pair(model, num_classes, size, frames)
    g = torch.Generator().manual_seed(1)
    slow = torch.randn(batch, 3, ours.cfg.slow_frames, size, size, generator=g)
    fast = torch.randn(batch, 3, ours.cfg.fast_frames, size, size, generator=g)
    labels = torch.randint(0, num_classes, (batch,), generator=g)
    variants = {}
    for name, net, channels_last, stack in (
            ("PyTorchVideo (reference)", reference, False, False),
            ("PyTorchVideo, channels-last", reference, True, False),
            ("ours, channels-last, plain stem conv", ours, True, False),
            ("ours, channels-last, frames as channels", ours, True, True)):
        net = copy.deepcopy(net).train()
        for stem in (m for m in net.modules() if isinstance(m, Stem)):
            stem.stack_frames = stack
        fmt = CL if channels_last else torch.contiguous_format
        net = net.to(memory_format=fmt)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                    weight_decay=1e-4)
        inputs = [slow.contiguous(memory_format=fmt), fast.contiguous(memory_format=fmt)]
        variants[name] = (net, optimizer, inputs)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(warmup + rounds):
        for name, (net, optimizer, inputs) in variants.items():
            seconds = training_step(net, optimizer, inputs, labels)
            if i >= warmup:
                times[name].append(seconds)
    first = next(iter(times))
    rows = {}
    for name, values in times.items():
        ratios = [r / v for r, v in zip(times[first], values)]
        rows[name] = {"median_s": statistics.median(values), "min_s": min(values),
                      "steps_per_s": 1 / statistics.median(values),
                      "ratio": statistics.median(ratios)}
    return {"model": model, "batch": batch, "size": size,
            "frames": [ours.cfg.slow_frames, ours.cfg.fast_frames], "rounds": rounds,
            "variants": rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="tiny,r50", help="comma-separated: tiny, r50")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="default: 8 (tiny), 2 (r50)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: "
                        "torch's)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {"tiny": dict(size=48, frames=4, batch=8), "r50": dict(size=112, frames=8,
                                                                       batch=2)}
    load_before = os.getloadavg()
    results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "threads": torch.get_num_threads(), "torch": torch.__version__, "models": []}
    for model in args.models.split(","):
        s = settings[model]
        result = benchmark(model, args.batch or s["batch"], s["size"], s["frames"], args.rounds,
                           args.warmup)
        results["models"].append(result)
        print(f"\n{model}: batch {result['batch']}, Slow/Fast frames {result['frames']}, "
              f"{result['size']} x {result['size']}, {args.rounds} rounds, "
              f"{results['threads']} threads")
        print(f"{'variant':30s} {'median s/step':>13s} {'steps/s':>8s} {'x reference':>11s}")
        for name, row in result["variants"].items():
            print(f"{name:30s} {row['median_s']:13.3f} {row['steps_per_s']:8.2f} "
                  f"{row['ratio']:11.2f}")
    results["load_average_before"] = [round(x, 2) for x in load_before]
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\nload average before {results['load_average_before']}, after "
          f"{results['load_average_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
