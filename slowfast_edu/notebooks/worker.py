"""Run one submitted notebook's cells in this process, for `slowfast-edu notebooks grade`.

    python worker.py JOB.json RESULTS.jsonl

The grader starts one such process per submission, as a script (not a module: it imports nothing
of slowfast_edu itself, so a notebook that never imports it costs no torch import). JOB holds the
code cells to run, in order, and a per-cell time limit. Each cell runs in IPython's shell (magics
work, `%matplotlib inline` included), and its outcome is appended to RESULTS as one JSON line as
soon as it is known, so a process killed at the grader's overall timeout still leaves the cells it
finished. A cell over its limit is interrupted (SIGALRM raises `CellTimeout`, which an `except
Exception` in the student's code cannot swallow) and the next cell runs. Connections leave only to
this machine (loopback): no network.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import os
import signal
import socket
import sys
import time

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class CellTimeout(BaseException):
    """The cell ran over its time limit."""


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def block_network() -> None:
    """Allow connections and name lookups for this machine only."""
    connect, connect_ex, getaddrinfo = (socket.socket.connect, socket.socket.connect_ex,
                                        socket.getaddrinfo)

    def guard(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) \
                and not _is_loopback(address[0]):
            raise OSError(f"no network while grading (connection to {address[0]} refused)")

    def guarded_connect(self, address):
        guard(self, address)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        guard(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"no network while grading ({host})")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = guarded_connect, guarded_connect_ex
    socket.getaddrinfo = guarded_getaddrinfo


def _message(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run(job: dict, results_path: str) -> None:
    """Run the job's cells, appending one JSON line per cell to `results_path`."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.enable_gui = lambda gui=None: None  # `%matplotlib inline` without a kernel

    def timeout(signum, frame):
        raise CellTimeout(f"the cell ran over {job['cell_timeout']:g} s")

    signal.signal(signal.SIGALRM, timeout)
    with open(results_path, "a", encoding="utf-8") as results:
        for cell in job["cells"]:
            start = time.perf_counter()
            output = io.StringIO()
            try:
                signal.setitimer(signal.ITIMER_REAL, float(job["cell_timeout"]))
                with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                    outcome = shell.run_cell(cell["source"], store_history=False)
                error = outcome.error_before_exec or outcome.error_in_exec
            except CellTimeout as e:  # raised outside the cell's own code
                error = e
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            line = {"index": cell["index"], "seconds": round(time.perf_counter() - start, 3)}
            if error is None:
                line["status"] = "ok"
            else:
                line.update(status="timeout" if isinstance(error, CellTimeout) else "error",
                            type=type(error).__name__, error=_message(error)[:4000])
            results.write(json.dumps(line) + "\n")
            results.flush()


def main(argv: list[str]) -> int:
    """Entry point: `worker.py JOB.json RESULTS.jsonl`."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]  # not the package
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    os.chdir(job["cwd"])
    block_network()
    run(job, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
