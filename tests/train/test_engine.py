"""The trainer keeps its promises: exact resume after SIGKILL, a clean stop on NaN, DDP equal to
one process, multi-view evaluation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from slowfast_edu.cli import main
from slowfast_edu.train import NonFiniteLossError, Trainer, load_config

from .conftest import write_config


def env() -> dict:
    """The subprocesses' environment, read when they start (TMPDIR: the tests' temp folder,
    where torchrun leaves its torchelastic_* folder)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


# tiny models on a shared machine: one thread, as the subprocesses (OMP_NUM_THREADS=1), so that
# an in-process run and a subprocess one give bit-identical weights
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train_cli(config: Path, out: Path, *extra: str, wait: bool = True):
    cmd = [sys.executable, "-m", "slowfast_edu.cli", "train", str(config), "--out", str(out),
           "--quiet", "--device", "cpu", *extra]
    if not wait:
        return subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    result = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def weights(out: Path) -> dict[str, torch.Tensor]:
    return torch.load(out / "last.pt", weights_only=True)["model_state"]


def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(video_set, tmp_path, capsys):
    config = write_config(tmp_path / "c.yaml", video_set, train={"epochs": 3})
    assert main(["train", str(config), "--out", str(tmp_path / "full"), "--quiet",
                 "--device", "cpu"]) == 0

    proc = train_cli(config, tmp_path / "killed", wait=False)  # a real process, really killed
    last = tmp_path / "killed" / "last.pt"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:  # kill once a mid-epoch step is saved
        if last.exists():
            try:
                state = torch.load(last, weights_only=True)
            except Exception:  # being replaced right now: look again
                continue
            if state["step"] >= 2 and state["batch_in_epoch"] > 0:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed: make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = torch.load(last, weights_only=True)
    total = torch.load(tmp_path / "full" / "last.pt", weights_only=True)["step"]
    assert 0 < killed_at["step"] < total

    assert main(["train", str(config), "--out", str(tmp_path / "killed"), "--quiet",
                 "--device", "cpu", "--resume"]) == 0
    full, resumed = weights(tmp_path / "full"), weights(tmp_path / "killed")
    assert full.keys() == resumed.keys()
    assert all(torch.equal(full[k], resumed[k]) for k in full)  # bit for bit
    assert ((tmp_path / "full" / "metrics.csv").read_text()
            == (tmp_path / "killed" / "metrics.csv").read_text())
    for name in ("best.pt", "curves.png", "confusion.png"):
        assert (tmp_path / "killed" / name).exists()
    assert not list((tmp_path / "killed").glob(".*.tmp"))  # no half-written file left


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(video_set,
                                                                                 tmp_path,
                                                                                 capsys):
    config = load_config(write_config(tmp_path / "c.yaml", video_set),
                         ["optim.base_lr=1e30", "optim.warmup_epochs=0", "data.val=null"])
    trainer = Trainer(config, tmp_path / "run", device="cpu", progress=False)
    with pytest.raises(NonFiniteLossError, match="last.pt still holds the last good state"):
        trainer.fit()
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["model_state"].values()
               if v.is_floating_point())
    assert state["step"] >= 1
    # and the command says so and fails
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "cli"), "--quiet",
                 "optim.base_lr=1e30", "optim.warmup_epochs=0", "data.val=null"]) == 1
    assert "error: the loss became" in capsys.readouterr().err


def test_two_process_ddp_matches_one_process_with_the_same_global_batch(video_set, tmp_path,
                                                                        capsys):
    # no dropout: its masks are drawn per process, the one thing that cannot match
    no_dropout = {"name": "slowfast_tiny", "overrides": {"dropout": 0.0}}
    one = write_config(tmp_path / "one.yaml", video_set, model=no_dropout, train={
        "epochs": 1, "batch_size": 2, "accumulate": 2, "checkpoint_every": 0},
        data={"val": None})
    two = write_config(tmp_path / "two.yaml", video_set, model=no_dropout, train={
        "epochs": 1, "batch_size": 2, "accumulate": 1, "checkpoint_every": 0},
        data={"val": None})
    assert main(["train", str(one), "--out", str(tmp_path / "one"), "--quiet",
                 "--device", "cpu"]) == 0
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                             "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0",
                             "-m", "slowfast_edu.cli", "train", str(two), "--out",
                             str(tmp_path / "two"), "--quiet", "--device", "cpu"],
                            env=env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    params = [k for k in a if "running" not in k and "num_batches" not in k]
    assert max((a[k] - b[k]).abs().max().item() for k in params) < 1e-5
    assert json.loads(result.stdout[result.stdout.index("{"):])["steps"] == torch.load(
        tmp_path / "one" / "last.pt", weights_only=True)["step"]


def test_eval_cli_averages_views_per_video(video_set, tmp_path, capsys):
    config = write_config(tmp_path / "c.yaml", video_set, train={"epochs": 2})
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet",
                 "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["eval", str(config), "--checkpoint", str(tmp_path / "run" / "best.pt"),
                 "--clips", "2", "--crops", "3", "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "4 videos x 6 views: top-1" in out
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert set(report["per_class"]) == {"0", "1"} and report["videos"] == 4
    assert (tmp_path / "eval" / "confusion.png").exists()


def test_loader_workers_start_by_spawn_unless_told_otherwise(video_set, tmp_path):
    # workers forked after threaded decoding in the main process can hang: spawn by default
    config = load_config(write_config(tmp_path / "c.yaml", video_set, data={"num_workers": 1}))
    trainer = Trainer(config, tmp_path / "run", device="cpu", progress=False)
    loader = trainer._loader(trainer.train_set, trainer.sampler)
    assert loader.multiprocessing_context.get_start_method() == "spawn"
    # (tests/data/test_kinetics_cache.py runs an epoch through such spawned workers)
    forked = Trainer(load_config(write_config(tmp_path / "f.yaml", video_set, data={
        "num_workers": 1, "multiprocessing_context": "fork"})), tmp_path / "f", device="cpu",
        progress=False)
    assert forked._loader(forked.train_set).multiprocessing_context.get_start_method() == "fork"
    assert trainer._loader(trainer.val_set).num_workers == 1
    config["data"]["num_workers"] = 0  # no workers: no context at all
    assert Trainer(config, tmp_path / "z", device="cpu", progress=False)._loader(
        trainer.val_set).multiprocessing_context is None


def test_the_trainer_follows_a_step_schedule(video_set, tmp_path):
    config = load_config(write_config(tmp_path / "c.yaml", video_set),
                         ["train.epochs=2", "optim.warmup_epochs=0", "data.val=null",
                          "optim.lr_steps={0: 1, 1: 0.1}"])
    trainer = Trainer(config, tmp_path / "run", device="cpu", progress=False)
    trainer.fit()  # the last step's rate: a tenth of the peak (a cosine would end near zero)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(trainer.peak_lr / 10)
