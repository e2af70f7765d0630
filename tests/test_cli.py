"""The `slowfast-edu` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slowfast_edu.cli import COMMANDS, build_parser, main
from slowfast_edu.models import PRESETS


def test_models_lists_presets_with_params_and_gflops(capsys):
    # the numbers of two (tests/models checks every preset's; counting the R101s takes seconds)
    assert main(["models", "slowfast_8x8_r50", "slowfast_tiny"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert list(lines) == ["slowfast_8x8_r50", "slowfast_tiny"]
    assert "34,566,488" in lines["slowfast_8x8_r50"] and "76.9" in lines["slowfast_8x8_r50"]
    assert "50.31" in lines["slowfast_8x8_r50"] and "65.71" in lines["slowfast_8x8_r50"]
    assert "@64" in lines["slowfast_tiny"]  # the teaching sizes: GFLOPs at their own crop
    assert main(["models", "slowfast_tiny", "resnet50"]) == 2
    assert "unknown preset(s) resnet50" in capsys.readouterr().err


def test_models_alone_lists_every_preset(capsys, monkeypatch):
    from slowfast_edu import models

    monkeypatch.setattr(models, "count_flops", lambda model, inputs: 1.0)  # names, not numbers
    assert main(["models"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == list(PRESETS)


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


def test_only_the_subcommand_asked_for_loads_its_options():
    parser = build_parser("train")
    train = parser._subparsers._group_actions[0].choices
    assert set(train) == set(COMMANDS)
    assert train["train"].parse_args(["c.yaml", "--out", "o"]).func.__name__ == "cmd_train"
    assert "func" not in vars(train["demo"].parse_args([]))  # demo's options never loaded


def test_the_console_script_imports_no_optional_dependency_and_fails_in_one_line(tmp_path):
    # one real process: `info` works without Gradio, nbformat or Captum being imported, and a
    # mistake is an `error:` line with exit status 2, no traceback
    script = ("import sys\nfrom slowfast_edu.cli import main\n"
              "assert main(['info', 'slow_tiny']) == 0\n"
              "heavy = [m for m in ('gradio', 'nbformat', 'captum', 'jupyter_client') "
              "if m in sys.modules]\n"
              "print('optional imported:', heavy)\n"
              "sys.exit(main(['train', 'nope.yaml', '--out', 'o']))\n")  # as the script does
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert "slow_tiny" in result.stdout and "optional imported: []" in result.stdout
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no config file at nope.yaml; the shipped configs")


def test_a_missing_optional_dependency_names_its_extra(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def without_nbformat(name, *args, **kwargs):
        if name == "nbformat":
            raise ModuleNotFoundError("No module named 'nbformat'", name="nbformat")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_nbformat)
    for module in [m for m in sys.modules if m.startswith("slowfast_edu.notebooks")]:
        monkeypatch.delitem(sys.modules, module)
    try:  # the parser stops (SystemExit), or the subcommand says so when it runs
        code = main(["notebooks", "student", "--out", "x"])
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert "pip install 'slowfast-edu[notebooks]'" in capsys.readouterr().err


def test_data_kinetics_subset_is_wired(tmp_path, capsys):
    assert main(["data", "kinetics-subset", "--annotations", str(tmp_path / "none.csv"),
                 "--classes", "2", "--per-class", "1", "--out", str(tmp_path / "o"),
                 "--source", str(tmp_path)]) == 2
    assert "none.csv" in capsys.readouterr().err
