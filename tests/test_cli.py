"""The `slowfast-edu` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slowfast_edu.cli import main


def test_models_lists_every_preset_with_params_and_gflops(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "34,566,488" in lines["slowfast_8x8_r50"]
    assert "65.71" in lines["slowfast_8x8_r50"] and "50.31" in lines["slowfast_8x8_r50"]
    assert "213.02" in lines["slowfast_16x8_r101"]
    assert "53,774,808" in lines["slowfast_8x8_r101"]
    assert "slowfast_tiny" in lines


def test_info_prints_table1(capsys):
    assert main(["info", "slowfast_8x8_r50"]) == 0
    out = capsys.readouterr().out
    assert "parameters 34,566,488, 50.31 GFLOPs" in out
    assert "[3x1x1, 512; 1x3x3, 512; 1x1x1, 2048] x3" in out
    assert "8x7x7, 2048" in out and "32x7x7, 256" in out


def test_info_unknown_model_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["info", "resnet50"])
    assert e.value.code == 2
    assert "invalid choice: 'resnet50'" in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "slowfast_edu.cli", "info", "slow_tiny"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "slow_tiny" in result.stdout


def test_data_kinetics_subset_is_wired(tmp_path, capsys):
    assert main(["data", "kinetics-subset", "--annotations", str(tmp_path / "none.csv"),
                 "--classes", "2", "--per-class", "1", "--out", str(tmp_path / "o"),
                 "--source", str(tmp_path)]) == 2
    assert "none.csv" in capsys.readouterr().err
