"""The paper's ablations on a laptop: Table 5's knobs on the teaching SlowFast, cost and accuracy.

Sec. 4.2 and Table 5 of the paper ablate SlowFast 4x16 R50 on Kinetics-400: (a) how the lateral
connections fuse the Fast features into the Slow pathway, (b) the Fast pathway's channel ratio
beta, (c) weaker inputs to the Fast pathway. Each `Variant` here is the same keyword override of
`slowfast_tiny` (`build_model("slowfast_tiny", beta_inv=16)`), trained with the pathway lesson's
recipe (configs/synthetic_tiny_cpu.yaml) and the same budget on the synthetic motion set, then
measured: parameters, GFLOPs per view (`count_flops`) and validation top-1.

Each variant carries the paper's top-1 and GFLOPs. Applied to 4x16 R50 (`paper_variant_cost`), our
GFLOPs match the paper's column to 0.1 for the fusions, gray-scale and beta = 1/16, 1/32; they do
not for beta = 1/4, 1/6, 1/12 (53.6, 41.2, 32.0 against 54.5, 41.8, 32.8), Fast-only (6.9 against
6.4), time difference (36.1 against 34.2: ours keeps 3 channels) and half resolution (36.0 against
34.4), where the paper's variant differs in a detail it does not state.

Two variants of the teaching model differ from the paper's:
- time-to-channel with summation needs alpha * beta * C = C; the paper has alpha = 8 = 1/beta, the
  tiny model alpha = 4, so its TtoC-sum variant also sets beta = 1/4;
- the speed ratio alpha (not in Table 5; the paper uses alpha = 8 for 4x16 and 4 for 8x8) is varied
  at a fixed Fast clip of 16 frames: alpha = 2 gives the Slow pathway 8 frames, alpha = 8 gives it
  2. On the synthetic set, whose motion shows only within 4 frames, alpha = 2 lets the Slow pathway
  see the motion itself.

    results = run_ablation("data/synthetic", "runs/ablation")     # trains every variant
    plot_ablation(results)                                        # ours beside the paper's
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import torch
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from ..models import build_network, count_flops, count_params, example_inputs, get_config
from .config import load_config
from .datasets import prepare_data
from .engine import Trainer, datasets_from_config
from .lesson import LESSON_CONFIG


@dataclass(frozen=True)
class Variant:
    """One ablation: a name, the Table 5 part it belongs to, its `build_model` overrides, and the
    paper's Kinetics-400 top-1 (%) and GFLOPs for SlowFast 4x16 R50 with the same change."""

    name: str
    family: str
    overrides: dict = field(default_factory=dict)
    paper_top1: float | None = None
    paper_gflops: float | None = None


# The numbers are Table 5 of the paper (Kinetics-400 val, 10 x 3 views; GFLOPs per view at 256).
VARIANTS: tuple[Variant, ...] = (
    Variant("SlowFast (T-conv)", "fusion", {}, 75.6, 36.1),
    Variant("T-sample", "fusion", {"fusion": "time_strided_sample"}, 75.4, 34.9),
    Variant("TtoC concat", "fusion", {"fusion": "time_to_channel_concat"}, 74.3, 39.8),
    Variant("TtoC sum", "fusion", {"fusion": "time_to_channel_sum", "beta_inv": 4}, 74.5, 34.2),
    Variant("no lateral", "fusion", {"fusion": "none"}, 73.5, 34.2),
    Variant("Slow-only", "fusion", {"arch": "slow"}, 72.6, 27.3),
    Variant("Fast-only", "fusion", {"arch": "fast"}, 51.7, 6.4),
    Variant("beta=1/4", "beta", {"beta_inv": 4}, 75.6, 54.5),
    Variant("beta=1/6", "beta", {"beta_inv": 6}, 75.8, 41.8),
    Variant("beta=1/12", "beta", {"beta_inv": 12}, 75.2, 32.8),
    Variant("beta=1/16", "beta", {"beta_inv": 16}, 75.1, 30.6),
    Variant("beta=1/32", "beta", {"beta_inv": 32}, 74.2, 28.6),
    Variant("gray-scale", "fast input", {"fast_input": "gray"}, 75.5, 34.1),
    Variant("time diff", "fast input", {"fast_input": "time_diff"}, 74.5, 34.2),
    Variant("half res, beta=1/4", "fast input", {"fast_input": "half_res", "beta_inv": 4},
            74.7, 34.4),
    Variant("alpha=2", "alpha", {"alpha": 2, "slow_frames": 8, "tau": 2}),
    Variant("alpha=8", "alpha", {"alpha": 8, "slow_frames": 2, "tau": 8}),
)
FAMILIES = ("fusion", "beta", "fast input", "alpha")  # Table 5 (a), (b), (c), and ours


def variant_cost(overrides: dict, preset: str = "slowfast_tiny", size: int = 48,
                 num_classes: int = 6) -> dict[str, float]:
    """Parameters and GFLOPs of one view (`count_flops`) of `preset` with `overrides`, measured on
    the meta device (no memory, no compute)."""
    cfg = get_config(preset, num_classes, **overrides)
    with torch.device("meta"):
        model = build_network(cfg)
        gflops = count_flops(model, example_inputs(cfg, size, device="meta"))
    return {"params": count_params(model), "gflops": gflops}


def variant_config(data_dir: str | Path, overrides: dict, settings: list[str] | None = None,
                   config_path: str | Path | None = None) -> dict:
    """The trainer config of one variant: the pathway lesson's config on `data_dir` (a synthetic
    set from `write_dataset`, generated there when missing), `slowfast_tiny` with `overrides`,
    then `settings` (`key=value` strings)."""
    data_dir = Path(data_dir)
    config = load_config(config_path or LESSON_CONFIG, settings)
    config["data"].update(train=str(data_dir / "train.csv"), val=str(data_dir / "val.csv"),
                          classnames=str(data_dir / "classnames.json"))
    config["model"]["overrides"] = {**config["model"]["overrides"], **overrides}
    return config


def train_variant(variant: Variant, data_dir: str | Path, out: str | Path,
                  settings: list[str] | None = None, config_path: str | Path | None = None,
                  progress: bool = False, datasets: tuple | None = None) -> dict:
    """Train one variant with the lesson's recipe; return its name, family, val top-1 (a fraction),
    parameters, GFLOPs per view (at the config's test crop), steps and minutes. `datasets`: the
    (train, val) sets of `datasets_from_config` for this variant's alpha, to share decoded clips."""
    config = variant_config(data_dir, variant.overrides, settings, config_path)
    trainer = Trainer(config, out, device="cpu", progress=progress, datasets=datasets)
    result = trainer.fit()
    size = trainer.config["data"]["test_crop_size"]  # the resolved test view
    cost = {"params": count_params(trainer.model),  # the trained model itself, one test view
            "gflops": count_flops(trainer.model, example_inputs(trainer.model.cfg, size))}
    return {"name": variant.name, "family": variant.family, "overrides": dict(variant.overrides),
            "val_top1": result.get("val_top1"), "steps": result["steps"],
            "minutes": result["minutes"], **cost,
            "paper_top1": variant.paper_top1, "paper_gflops": variant.paper_gflops}


def run_ablation(data_dir: str | Path, out: str | Path,
                 variants: tuple[Variant, ...] | list[Variant] = VARIANTS,
                 settings: list[str] | None = None, config_path: str | Path | None = None,
                 progress: bool = True, workers: int = 1) -> list[dict]:
    """Train every variant with the same config and budget, each in `out/<index>`; write
    `results.json` and a Markdown table `results.md` in `out`; return the results in the order
    of `variants`. Variants with the same alpha share their datasets (decoded once when the
    config sets `data.cache`). `workers` > 1 trains that many variants at once, each in its own
    process with cores / workers torch threads, the costliest first: the tiny model's small
    convolutions keep a second thread half idle, a second process busy (docs/notebooks.md)."""
    out = Path(out)
    prepare_data(variant_config(data_dir, {}, settings, config_path), progress)  # once
    jobs = [(variant, data_dir, out / f"{i:02d}", settings, config_path)
            for i, variant in enumerate(variants)]
    if workers <= 1:
        shared: dict = {}
        results = [_train_sharing(job, shared) for job in tqdm(
            jobs, desc="variants", disable=not progress)]
    else:
        results = _train_in_processes(jobs, workers, progress)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(results_table(results))
    return results


def _train_sharing(job: tuple, shared: dict) -> dict:
    """`train_variant` of one job, with the datasets of its alpha from `shared` (made once)."""
    variant, data_dir, out, settings, config_path = job
    config = variant_config(data_dir, variant.overrides, settings, config_path)
    alpha = get_config(config["model"]["name"], **config["model"]["overrides"]).alpha
    if alpha not in shared:  # the clips are packed into [slow, fast] by alpha
        decoded = next(iter(shared.values()), None)  # the same frames, whatever the alpha
        if decoded is not None:
            config = {**config, "data": {**config["data"], "cache": False}}
        shared[alpha] = datasets_from_config(config)
        for dataset, other in zip(shared[alpha], decoded or ()):
            if dataset is not None:
                dataset.cache = other.cache  # decoded once, packed by each alpha
    return train_variant(variant, data_dir, out, settings, config_path, datasets=shared[alpha])


_WORKER_DATASETS: dict = {}  # in a worker process: its datasets by alpha, for all its variants


def _train_in_worker(job: tuple) -> dict:
    return _train_sharing(job, _WORKER_DATASETS)


def _train_in_processes(jobs: list[tuple], workers: int, progress: bool) -> list[dict]:
    """The jobs' results, trained by `workers` spawned processes; the costliest job first."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    jobs = [(v, d, o, [*(s or []), f"train.threads={threads}"], c) for v, d, o, s, c in jobs]
    cost = [variant_cost(job[0].overrides)["gflops"] for job in jobs]
    results: list[dict | None] = [None] * len(jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(_train_in_worker, jobs[i]): i
                   for i in sorted(range(len(jobs)), key=lambda i: -cost[i])}
        for future in tqdm(as_completed(futures), total=len(jobs), desc="variants",
                           disable=not progress):
            results[futures[future]] = future.result()
    return results


def results_table(results: list[dict]) -> str:
    """A Markdown table: our cost and top-1 beside the paper's for each variant."""
    lines = ["| variant | part | params | GFLOPs | val top-1 | paper top-1 | paper GFLOPs |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        top1 = "" if r["val_top1"] is None else f"{100 * r['val_top1']:.1f}%"
        paper = [f"{r[k]:.1f}" if r[k] is not None else "-" for k in ("paper_top1", "paper_gflops")]
        lines.append(f"| {r['name']} | {r['family']} | {r['params']:,d} | {r['gflops']:.3f} | "
                     f"{top1} | {paper[0]} | {paper[1]} |")
    return "\n".join(lines) + "\n"


def plot_ablation(results: list[dict], title: str = "synthetic motion set, slowfast_tiny"
                  ) -> Figure:
    """GFLOPs against top-1, one column per part of Table 5 found in `results`: ours on top, the
    paper's below. The default SlowFast (the first variant of `VARIANTS`) is drawn in every column
    as a black star, the reference each part's variants change one thing of."""
    families = [f for f in FAMILIES if any(r["family"] == f for r in results)]
    default = next((r for r in results if r["name"] == VARIANTS[0].name), None)
    fig = Figure(figsize=(3.6 * len(families), 6.4), layout="constrained")
    axes = fig.subplots(2, len(families), squeeze=False)  # (ours/paper, family)
    for column, family in enumerate(families):
        ours, paper = axes[:, column]
        chosen = [r for r in results if r["family"] == family and r is not default]
        in_paper = any(r["paper_top1"] is not None for r in chosen)
        panels = [(ours, "val_top1", "gflops", 100)]
        panels += [(paper, "paper_top1", "paper_gflops", 1)] if in_paper else []
        for ax, top1, gflops, scale in panels:
            if default is not None and default[top1] is not None:
                ax.scatter(default[gflops], scale * default[top1], marker="*", s=120,
                           color="black")
                ax.annotate("default", (default[gflops], scale * default[top1]), fontsize=7,
                            xytext=(4, -9), textcoords="offset points")
            for r in chosen:
                if r[top1] is not None:
                    ax.scatter(r[gflops], scale * r[top1], color="tab:blue")
                    ax.annotate(r["name"], (r[gflops], scale * r[top1]), fontsize=7,
                                xytext=(4, 3), textcoords="offset points")
        ours.set(title=f"{family}: ours", xlabel="GFLOPs per view", ylabel="val top-1 (%)")
        paper.set(title=f"{family}: paper, Table 5", xlabel="GFLOPs per view (256 px)",
                  ylabel="Kinetics-400 top-1 (%)")
        if not in_paper:
            paper.text(0.5, 0.5, "not in the paper's Table 5", ha="center", va="center",
                       transform=paper.transAxes, fontsize=9, color="gray")
    fig.suptitle(f"ours ({title}) and the paper's (SlowFast 4x16 R50, Kinetics-400)",
                 fontsize=10)
    return fig


def paper_variant_cost(variant: Variant, size: int = 256) -> dict[str, float]:
    """Our measured parameters and GFLOPs of `variant` applied to SlowFast 4x16 R50, to compare
    with the paper's GFLOPs column (TtoC sum keeps beta = 1/8 there: alpha = 8 = 1/beta)."""
    if variant.paper_gflops is None:
        raise ValueError(f"{variant.name!r} is not in the paper's Table 5: nothing to compare")
    overrides = dict(variant.overrides)
    if overrides.get("fusion") == "time_to_channel_sum":
        overrides.pop("beta_inv", None)
    return variant_cost(overrides, "slowfast_4x16_r50", size, 400)
