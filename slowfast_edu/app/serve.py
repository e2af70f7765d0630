"""Serving the app from the command line: a free port, a private temporary folder, a clean stop.

- `free_port(host, port)`: `port` if nothing listens there, else the next free one (a second demo,
  a notebook's, Jupyter's): the command says which it took, rather than failing.
- `private_temp_folder()`: one folder for everything the app process writes (Gradio's copies of the
  uploads under `gradio/`, which `GRADIO_TEMP_DIR` points at, and the app's own outputs), removed
  when the process ends, on Ctrl+C and on SIGTERM (`stop_on_sigterm`) as well as normally.
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path

TRIES = 100  # ports tried after the one asked for


class NoFreePort(OSError):
    """No port could be bound from the one asked for on."""


def port_is_free(host: str, port: int) -> bool:
    """True when a server could listen on `host`:`port` now; `NoFreePort` says why not, when
    it is not that another program listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return False
            if e.errno == errno.EACCES:
                raise NoFreePort(f"port {port} needs root (ports below 1024 do); give one like "
                                 f"--port 7860") from None
            if e.errno == errno.EADDRNOTAVAIL or isinstance(e, socket.gaierror):
                raise NoFreePort(f"--host {host} is not an address of this machine; use "
                                 f"127.0.0.1 (this machine only) or 0.0.0.0 (every network)") \
                    from None
            raise
    return True


def free_port(host: str, port: int, tries: int = TRIES) -> int:
    """`port`, or the first free one of the next `tries`."""
    for candidate in range(port, min(port + tries + 1, 65536)):
        if port_is_free(host, candidate):
            return candidate
    raise NoFreePort(f"ports {port} to {port + tries} on {host} are all taken; give another with "
                     f"--port")


def private_temp_folder(prefix: str = "slowfast_edu_demo_") -> Path:
    """A new temporary folder removed at exit; Gradio's uploads go to its `gradio/` (unless
    GRADIO_TEMP_DIR is set already). Call before Gradio builds the app."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(folder / "gradio"))
    return folder


def stop_on_sigterm() -> None:
    """Make SIGTERM (`kill`, `docker stop`, a service manager) stop the app as Ctrl+C does, so
    that the server closes and the temporary folders are removed."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
