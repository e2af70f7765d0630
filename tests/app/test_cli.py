"""`slowfast-edu demo`: its options, a clear exit code for a bad checkpoint, and a real start."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from slowfast_edu.cli import build_parser

from ..conftest import REPO
from .conftest import free_port


def test_options_and_defaults():
    args = build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.checkpoint, args.model) == ("127.0.0.1", 7860, None, None)
    args = build_parser().parse_args(["demo", "--host", "0.0.0.0", "--port", "8000",
                                      "--checkpoint", "best.pt", "--model", "slow_tiny"])
    assert (args.host, args.port, args.checkpoint, args.model) == (
        "0.0.0.0", 8000, "best.pt", "slow_tiny")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--model", "resnet50"])


def test_an_unreadable_checkpoint_is_exit_code_2(tmp_path, capsys):
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    args = build_parser().parse_args(["demo", "--checkpoint", str(tmp_path / "broken.pt")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "broken.pt" in err


def test_the_command_serves_the_app_on_loopback_until_interrupted():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "slowfast_edu.cli", "demo", "--port",
                                str(port)], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the app did not start within 120 s"
                time.sleep(0.5)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=5).json()
        assert config["title"] == "SlowFast: what each pathway saw"
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}" in output and "models: Default" in output
