"""The first hour of a new user: every everyday path of `train` and `eval` works, or stops with
one `error:` line that says what is wrong and what to do, exit status 2, never a traceback.

The commands run in this process through `main`, which is all the console script runs (an
exception escaping it would fail the test, as a traceback would show in a terminal);
tests/test_cli.py runs the real console script once. The runs are tiny: the synthetic set at
6 x 2 videos of 16 frames, one or two steps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from slowfast_edu.cli import main
from slowfast_edu.train import checkpoint as checkpoint_module
from slowfast_edu.train import datasets as datasets_module

TINY_SET = "data.synthetic={train_per_class: 1, val_per_class: 1, frames: 16, size: 32}"
TINY = [TINY_SET, "data.crop_size=32", "train.batch_size=3", "train.threads=1", "--quiet",
        "--device", "cpu"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `slowfast-edu ARGV`."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def no_decoding(monkeypatch) -> None:
    """From now on, opening a dataset fails the test: checks must come before any decoding."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset was made (videos would be decoded) before the check")

    monkeypatch.setattr(datasets_module, "KineticsDataset", refuse)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """`slowfast-edu train synthetic_tiny_cpu --max-steps 1` from an empty folder: the trainer
    makes the synthetic set first (data/synthetic), then trains; no best.pt (no epoch ended)."""
    folder = tmp_path_factory.mktemp("first_hour")
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        threads = torch.get_num_threads()
        code = main(["train", "synthetic_tiny_cpu", "--out", "runs/x", "--max-steps", "1", *TINY])
        torch.set_num_threads(threads)
    finally:
        os.chdir(cwd)
    assert code == 0
    return folder


def test_train_makes_the_synthetic_set_when_it_is_missing(first_run):
    assert (first_run / "data" / "synthetic" / "train.csv").is_file()
    assert len((first_run / "data/synthetic/val.csv").read_text().splitlines()) == 6
    state = torch.load(first_run / "runs/x/last.pt", weights_only=True)
    assert state["step"] == 1 and not (first_run / "runs/x/best.pt").exists()
    # the checkpoint records the clip the model was trained on (predict and the app read it)
    assert state["config"]["model"]["overrides"] == {"crop_size": 32}
    assert state["config"]["data"]["num_frames"] == 16


def test_train_says_so_and_names_what_best_pt_needs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", "configs/synthetic_tiny_cpu.yaml", "--out", "runs/y",
                         "--max-steps", "1", *TINY)
    assert code == 0
    assert ("note: data/synthetic/train.csv does not exist yet: generating the synthetic motion "
            "set in data/synthetic (as `slowfast-edu data synthetic --out data/synthetic "
            "--train-per-class 1 --val-per-class 1 --frames 16 --size 32`)") in err
    assert "wrote runs/y/last.pt (step 1); no best.pt: validation runs at the end of every 16 " \
           "epoch(s)" in err and '"steps": 1' in out


def test_train_of_data_that_does_not_exist_names_the_key_and_the_file(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "kinetics_subset_8x8_r50", "--out", "runs/k")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: data.train: data/k400_subset/train.csv does not exist")
    assert "make the data set first" in err


def test_eval_of_a_run_without_best_pt_uses_last_pt_and_says_so(first_run, capsys, monkeypatch):
    monkeypatch.chdir(first_run)
    code, out, err = run(capsys, "eval", "synthetic_tiny_cpu", "--checkpoint", "runs/x/best.pt",
                         "--clips", "1", "--crops", "1", TINY_SET, "data.crop_size=32")
    assert code == 0 and "6 videos x 1 views: top-1" in out
    assert "note: runs/x/best.pt does not exist" in err and "evaluating runs/x/last.pt" in err
    code, out, _ = run(capsys, "eval", "synthetic_tiny_cpu", "--checkpoint", "runs/x",
                       "--clips", "1", "--crops", "1", "data.crop_size=32")
    assert code == 0 and "6 videos x 1 views" in out  # a run's folder: best.pt, else last.pt


def test_eval_of_an_unreadable_checkpoint_is_one_line_before_any_decoding(first_run, capsys,
                                                                           monkeypatch):
    monkeypatch.chdir(first_run)
    no_decoding(monkeypatch)
    Path("runs/broken.pt").write_text("<html>not found</html>")
    code, _, err = run(capsys, "eval", "synthetic_tiny_cpu", "--checkpoint", "runs/broken.pt",
                       "data.crop_size=32")
    assert code == 2 and err.count("\n") == 1
    assert "runs/broken.pt is not a PyTorch checkpoint" in err
    code, _, err = run(capsys, "eval", "synthetic_tiny_cpu", "--checkpoint", "runs/none.pt")
    assert code == 2 and "no checkpoint at runs/none.pt (the folder has broken.pt" in err


def test_pretrained_weights_that_do_not_load_stop_before_any_decoding(first_run, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(first_run)
    no_decoding(monkeypatch)
    Path("runs/empty.pt").write_bytes(b"")
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/p",
                       "model.pretrained=runs/empty.pt", *TINY)
    assert code == 2 and "checkpoint runs/empty.pt is empty (0 bytes)" in err


def hostile(path: Path, marker: Path) -> None:
    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    torch.save({"model_state": Payload()}, path)


@pytest.mark.parametrize("kind, words", [
    ("hostile pickle", "contains pickled code (posix.system), so it was not written by "
                       "slowfast-edu train; refusing to load it"),
    ("bare state dict", "is not a checkpoint written by slowfast-edu train (it has no "
                        "model_state, optimizer, scaler, epoch: a bare state dict of weights?)"),
    ("another network", "is a run of slowfast_tiny and this config trains slowfast_tiny "
                        "(fusion 'none' there, 'time_strided_conv' here)"),
    ("truncated", "truncated or not a PyTorch checkpoint"),
])
def test_resume_from_a_bad_last_pt_fails_fast_with_one_message(first_run, tmp_path, capsys,
                                                                 monkeypatch, kind, words):
    monkeypatch.chdir(first_run)
    out = tmp_path / "run"
    out.mkdir()
    last, good = out / "last.pt", first_run / "runs/x/last.pt"
    marker = tmp_path / "pwned"
    if kind == "hostile pickle":
        hostile(last, marker)
    elif kind == "bare state dict":
        torch.save(torch.load(good, weights_only=True)["model_state"], last)
    elif kind == "another network":
        state = torch.load(good, weights_only=True)
        state["config"]["model"]["overrides"]["fusion"] = "none"
        torch.save(state, last)
    else:
        last.write_bytes(good.read_bytes()[:5000])
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", str(out), "--resume",
                       *TINY)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert "weights_only=False" not in err and not marker.exists()  # nothing ran from it
    if kind == "bare state dict":
        assert f"model.pretrained={last}" in err  # what to do instead


def test_resume_without_a_run_says_there_is_nothing_to_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/none", "--resume")
    assert code == 2 and "--resume: there is no runs/none/last.pt to resume from" in err


def test_an_output_folder_that_fails_mid_run_keeps_last_pt_and_says_resume(first_run, tmp_path,
                                                                           capsys, monkeypatch):
    monkeypatch.chdir(first_run)
    out = tmp_path / "run"
    real, calls = os.replace, []

    def failing_replace(src, dst):  # the second checkpoint cannot be written
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", failing_replace)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", str(out),
                       "--max-steps", "3", "train.checkpoint_every=1", *TINY)
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"error: cannot write {out / 'last.pt'} (Permission denied): training stopped at step "
        f"2; {out / 'last.pt'} (step 1) is intact: fix the folder and continue with --resume")
    assert not list(out.glob(".*.tmp"))  # no half-written checkpoint left behind
    monkeypatch.setattr(checkpoint_module.os, "replace", real)  # the folder is fixed
    code, _, _ = run(capsys, "train", "synthetic_tiny_cpu", "--out", str(out), "--max-steps",
                     "3", "--resume", "train.checkpoint_every=1", *TINY)
    assert code == 0 and torch.load(out / "last.pt", weights_only=True)["step"] == 3


@pytest.mark.parametrize("settings, words", [
    (["train.batch_size=abc"], "train.batch_size must be an integer (default 8), got 'abc'"),
    (["data.num_frames=32"], "data.num_frames=32 (the model's: 16)"),
    (["model.overrides={colour: 1}"], "model: unknown override(s) colour for slowfast_tiny"),
])
def test_config_mistakes_are_one_line(tmp_path, capsys, monkeypatch, settings, words):
    monkeypatch.chdir(tmp_path)
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/c", *settings)
    assert code == 2 and err.startswith("error: ") and words in err, err


def test_a_second_train_into_a_run_s_folder_asks_for_resume(first_run, capsys, monkeypatch):
    monkeypatch.chdir(first_run)
    no_decoding(monkeypatch)
    before = (first_run / "runs/x/last.pt").read_bytes()
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/x", *TINY)
    assert code == 2 and "runs/x already holds a run (runs/x/last.pt): continue it with " \
                         "--resume, or give another --out" in err
    assert (first_run / "runs/x/last.pt").read_bytes() == before  # nothing overwritten


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_asking_for_a_gpu_that_is_not_there_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/g", "--device",
                       "cuda")
    assert code == 2 and "--device cuda: torch sees no CUDA GPU here" in err


def test_options_that_are_config_settings_are_taken_as_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    no_decoding(monkeypatch)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/o", "--epochs", "2",
                       "--batch-size=none")  # what the user meant, then checked as any value
    assert "note: --epochs 2 taken as train.epochs=2 (config settings are key=value)" in err
    assert code == 2 and "train.batch_size must be an integer (default 8), got 'none'" in err


def test_a_mistyped_config_name_gets_a_suggestion(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "synthetic_tiny", "--out", "runs/t")
    assert code == 2 and "no config file at synthetic_tiny (did you mean synthetic_tiny_cpu?)" \
                         in err


def test_ctrl_c_says_where_the_run_stands(tmp_path, capsys, monkeypatch):
    from slowfast_edu.train import Trainer

    def interrupted(self):
        self.step, self.saved_step = 7, 5
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Trainer, "fit", interrupted)
    code, _, err = run(capsys, "train", "synthetic_tiny_cpu", "--out", "runs/i", "--max-steps",
                       "1", *TINY)
    assert code == 130 and "interrupted at step 7; runs/i/last.pt holds step 5: continue with " \
                           "--resume" in err


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_lab_allows_root_and_make_lesson_checks_before_it_records():
    from .conftest import REPO

    # `make -n` prints the commands without running any
    lab = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True)
    (line,) = [line for line in lab.stdout.splitlines() if "jupyter lab" in line]
    assert ("--allow-root" in line) == (os.geteuid() == 0)  # JupyterLab refuses root without
    lesson = subprocess.run(["make", "-n", "lesson"], cwd=REPO, capture_output=True,
                            text=True).stdout.splitlines()
    run_at = next(i for i, line in enumerate(lesson) if "lesson pathways" in line)
    assert "--check" in lesson[run_at]
    assert run_at < next(i for i, line in enumerate(lesson) if "docs/lesson_pathways" in line)


def test_fine_tuning_from_a_run_with_other_classes_leaves_its_classifier_out(first_run, capsys):
    from slowfast_edu.train import load_config
    from slowfast_edu.train.engine import build_from_config

    last = first_run / "runs/x/last.pt"  # 6 classes
    config = load_config("synthetic_tiny_cpu", [f"model.pretrained={last}", "data.crop_size=32"])
    model = build_from_config(config, num_classes=2)
    assert f"note: {last} was trained on 6 classes, this data has 2: its classifier is left " \
           f"out" in capsys.readouterr().out
    trained, loaded = torch.load(last, weights_only=True)["model_state"], model.state_dict()
    backbone = [k for k in trained if not k.startswith("head.")]
    assert backbone and all(torch.equal(loaded[k], trained[k]) for k in backbone)
    assert model.head.proj.out_features == 2
