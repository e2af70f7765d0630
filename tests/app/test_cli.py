"""`slowfast-edu demo`: its options, a clear exit code for a bad checkpoint, a busy port, a clean
stop. The command itself is started (from a wheel, on a busy port, until SIGTERM) by
tests/test_packaging.py."""

from __future__ import annotations

import os
import signal
import socket
import tempfile

import pytest

from slowfast_edu.app.serve import free_port as free_port_from
from slowfast_edu.app.serve import port_is_free, private_temp_folder, stop_on_sigterm
from slowfast_edu.cli import build_parser

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
    before = os.environ.get("GRADIO_TEMP_DIR"), signal.getsignal(signal.SIGTERM)
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error:") and "broken.pt" in err
    # a demo that never started changed nothing in the process (its env, its signal handlers)
    assert (os.environ.get("GRADIO_TEMP_DIR"), signal.getsignal(signal.SIGTERM)) == before


def test_a_busy_port_is_replaced_by_the_next_free_one():
    # (tests/test_packaging.py runs `slowfast-edu demo` on a busy port, from a wheel)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", free_port()))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        assert free_port_from("127.0.0.1", port) > port
        assert port_is_free("127.0.0.1", free_port_from("127.0.0.1", port))
    with pytest.raises(OSError, match="are all taken; give another with --port"):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            free_port_from("127.0.0.1", busy.getsockname()[1], tries=0)


def test_sigterm_stops_the_app_as_ctrl_c_does(monkeypatch):
    handlers: dict = {}
    monkeypatch.setattr(signal, "signal", lambda number, handler: handlers.update({
        number: handler}))
    stop_on_sigterm()
    with pytest.raises(KeyboardInterrupt):  # gradio's block_thread closes the server on it
        handlers[signal.SIGTERM](signal.SIGTERM, None)


def test_the_private_temp_folder_holds_gradio_s_uploads_and_goes_at_exit(tmp_path, monkeypatch):
    import atexit

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("GRADIO_TEMP_DIR", "")  # so that the variable is restored afterwards
    monkeypatch.delenv("GRADIO_TEMP_DIR")  # (the app of the other tests reads it on requests)
    at_exit = []
    monkeypatch.setattr(atexit, "register", lambda *call, **kwargs: at_exit.append((call, kwargs)))
    folder = private_temp_folder()
    assert folder.parent == tmp_path and os.environ["GRADIO_TEMP_DIR"] == str(folder / "gradio")
    (folder / "gradio" / "upload").mkdir(parents=True)
    (function, *args), kwargs = at_exit[0]
    function(*args, **kwargs)  # what runs at exit (SIGTERM included: see above)
    assert list(tmp_path.iterdir()) == []


def test_a_host_that_is_not_this_machine_is_named():
    with pytest.raises(OSError, match="--host 10.9.9.9 is not an address of this machine"):
        free_port_from("10.9.9.9", 7860)
