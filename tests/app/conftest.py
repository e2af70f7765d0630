"""The app under test: launched once on loopback on a free port, closed after; generated videos.

Odd and broken videos come from the data tests' generators (`tests/data/conftest.py`), plus a
10-minute clip whose frames spell their own index, so a test can tell which frames the app read.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from ..conftest import REPO
from ..data.conftest import BROKEN, VALID, write_video

SAMPLE = REPO / "data_samples" / "val" / "red_circle_moving_left_0000.mp4"  # class 0
TEN_MINUTES = 18000  # frames at 30 fps


def free_port() -> int:
    """A TCP port nobody listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ten_minutes(path: Path) -> Path:
    # tiny index frames, a keyframe every 20 s, the index first (as web videos have it): ~1 MB,
    # ~2 s to write
    return write_video(path, TEN_MINUTES, 40, 48, rate=30, bands=5,  # 8**5 > 18000
                       options={"preset": "ultrafast", "g": "600", "sc_threshold": "0"},
                       container_options={"movflags": "faststart"})


@pytest.fixture(scope="package")
def make_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`make_video("4k.mp4")`: a generated file from tests/data's VALID or BROKEN tables, or
    "ten_minutes.mp4"; written on first use."""
    folder = tmp_path_factory.mktemp("app_videos")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            path = folder / name
            if name == "ten_minutes.mp4":
                made[name] = _ten_minutes(path)
            else:
                made[name] = VALID[name](path) if name in VALID else BROKEN[name](path, get)
        return made[name]

    return get


@pytest.fixture(scope="package")
def one_thread():
    """Tiny models on tiny clips: one torch thread is fastest and keeps timings steady."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="package")
def app(one_thread):
    """The demo served on 127.0.0.1 (uploads up to 5 MB), shared by the test modules here."""
    from slowfast_edu.app import launch

    demo = launch(port=free_port(), prevent_thread_lock=True, quiet=True, max_file_size="5mb")
    yield demo
    demo.close()


@pytest.fixture(scope="package")
def client(app, tmp_path_factory):
    """A gradio_client on the app, downloading outputs into a temp folder."""
    from gradio_client import Client

    return Client(app.local_url, verbose=False, analytics_enabled=False,
                  download_files=str(tmp_path_factory.mktemp("downloads")))
