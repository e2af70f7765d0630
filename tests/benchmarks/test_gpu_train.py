"""The GPU training benchmark's harness, run small on the CPU (the GPU figures come from a GPU)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from slowfast_edu.models import build_model, count_flops

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_train.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_smoke_run(tmp_path):
    pytest.importorskip("pytorchvideo")
    gpu_train = load_script()
    torch.set_num_threads(2)
    report = gpu_train.main(["--device", "cpu", "--size", "32", "--frames", "2", "--batch", "1",
                             "--steps", "1", "--warmup", "0", "--precision", "fp32",
                             "--no-compile", "--json", str(tmp_path / "r.json")])
    assert set(report["results"]) == {"PyTorchVideo slowfast_r50", "ours"}
    assert report["results"]["PyTorchVideo slowfast_r50"]["ratio_to_reference"] == 1.0
    assert all(r["clips_per_s"] > 0 and r["mfu"] is None for r in report["results"].values())
    # training = 3 x forward, at 2 FLOPs per multiply-add (the paper counts multiply-adds)
    model = build_model("slowfast_8x8_r50", slow_frames=2)
    forward = count_flops(model, [torch.zeros(1, 3, 2, 32, 32), torch.zeros(1, 3, 8, 32, 32)])
    assert report["train_gflops_per_clip"] == pytest.approx(6 * forward, rel=1e-6)
    assert (tmp_path / "r.json").is_file()


def test_peak_lookup():
    gpu_train = load_script()
    assert gpu_train.peak_tflops(torch.device("cpu")) is None
    assert gpu_train.PEAK_TFLOPS["H200"] > gpu_train.PEAK_TFLOPS["A100"]
