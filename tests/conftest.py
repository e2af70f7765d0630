"""Shared test set-up: deterministic seeds, the real clips beside the repository, BN helpers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"



@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _main_has_a_spec():
    """A pytest-xdist worker's __main__ (execnet's) may have no __spec__, which multiprocessing's
    "spawn" reads when a DataLoader starts its workers; a program's __main__ always has one (None
    at least). Checked before every test: the worker's __main__ is not always the same module."""
    main = sys.modules["__main__"]
    if not hasattr(main, "__spec__"):
        main.__spec__ = None


@pytest.fixture(scope="session", autouse=True)
def _temp_folder(tmp_path_factory):
    """The temp folder of these tests, and of the processes they start, is one of pytest's:
    libraries they drive leave things there (gradio_client an empty folder per file it
    downloads, torch its inductor cache folder). The package's own code leaves nothing: the tests
    of the dataset, the app and the demo watch a folder of their own for that.

    One folder for the whole session, never switched back and forth: gradio reads the temp
    folder once (its upload cache) and refuses files outside the folders it allows, so a worker
    of `pytest -n 2` that runs notebooks between two app tests must not see it change."""
    folder = tmp_path_factory.mktemp("tmp")
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(folder), str(folder)
    yield folder
    if saved[0] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved[0]
    tempfile.tempdir = saved[1]


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test: tiny tensors run faster, and alone, on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the repository (real clips, Kinetics lists); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (real clips and Kinetics lists live there)")
    return SHARED


def randomize_bn(model: torch.nn.Module, generator_seed: int = 0) -> torch.nn.Module:
    """Give every BN non-trivial weights, biases and running statistics (as a trained net has)."""
    g = torch.Generator().manual_seed(generator_seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean = torch.randn(n, generator=g) * 0.1
            m.running_var = torch.rand(n, generator=g) * 1.5 + 0.5
    return model
