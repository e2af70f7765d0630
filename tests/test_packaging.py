"""The package as a user installs it: a wheel, built from this checkout and installed into a fresh
environment that cannot see the checkout, runs from another folder: the pathway lesson (one
step), the ablation helpers, the default model, and the demo until it answers a request.

A fresh environment cannot download torch here, so it sees the dependencies installed in the
environment running the tests through a `.pth` line naming that site-packages folder; `.pth`
files inside that folder (an editable install of this checkout among them) are not run, and the
test checks that `slowfast_edu` comes from the wheel. The demo also shows what a first run needs:
a busy port is replaced by the next free one, the launch log gives no share-link advice, and on
SIGTERM nothing is left in its temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import httpx
import pytest

from .conftest import REPO

TINY = ["data.synthetic={train_per_class: 1, val_per_class: 1, frames: 16, size: 32}",
        "data.crop_size=32", "train.max_steps=1", "train.threads=1"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The fresh environment with the wheel installed: {python, script, env, cwd, site}."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(REPO / "slowfast_edu", source / "slowfast_edu",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "--no-index", "--quiet", "--wheel-dir",
                            str(work / "dist"), str(source)], capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (work / "dist").glob("slowfast_edu-*.whl")

    venv.create(work / "env", with_pip=False, symlinks=True)
    python = work / "env" / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"], capture_output=True,
                               text=True, check=True).stdout.strip())
    here = sysconfig.get_paths()["purelib"]  # torch & co., installed where the tests run
    (site / "dependencies_of_the_tests.pth").write_text(here + "\n")
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must not see a
    # checkout on the path (its egg-info would read as "already installed")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                              "--no-deps", "--no-index", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=300, env=clean)
    assert install.returncode == 0, install.stderr[-3000:]

    elsewhere = work / "elsewhere"  # not the checkout, not the environment
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "GRADIO_TEMP_DIR", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1",
               PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    return {"python": python, "script": python.parent / "slowfast-edu", "env": env,
            "cwd": elsewhere, "site": site, "wheel": wheel}


def run(installed: dict, *command, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=installed["cwd"],
                            env=installed["env"], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def test_the_wheel_holds_what_the_library_reads_at_run_time(installed):
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for name in ("slowfast_edu/assets/default_model.pt", "slowfast_edu/cli.py",
                 "slowfast_edu/configs/synthetic_tiny_cpu.yaml",
                 "slowfast_edu/configs/default_model.yaml"):
        assert name in names
    metadata = zipfile.ZipFile(installed["wheel"]).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    for requirement in ("torch==2.14.1", "gradio", "av", "pyyaml", "pillow", "tqdm"):
        assert f"Requires-Dist: {requirement}" in metadata
    assert "Provides-Extra: notebooks" in metadata


def test_the_default_model_the_lesson_and_the_ablation_helpers_run_from_the_wheel(installed):
    script = ("import sys\nfrom pathlib import Path\n"
              "import slowfast_edu as se\n"
              "from slowfast_edu.train.ablation import VARIANTS, variant_config, variant_cost\n"
              "from slowfast_edu.train.lesson import LESSON_CONFIG\n"
              "print(se.__file__)\nprint(LESSON_CONFIG)\n"
              # where else a slowfast_edu could come from: nowhere
              "print([p for p in sys.path if (Path(p or '.') / 'slowfast_edu').exists()])\n"
              "print(variant_config('data', VARIANTS[1].overrides)['model']['overrides'])\n"
              "print(variant_cost({})['params'])\n"
              "model = se.load_default_model()\n"
              "print(tuple(model(se.example_inputs(model.cfg, 64)).shape), model.classnames[0])\n")
    lines = run(installed, installed["python"], "-c", script).stdout.splitlines()
    site = str(installed["site"])
    assert lines[0].startswith(site) and lines[1].startswith(site)  # not the checkout's
    assert lines[2] == repr([site])  # the checkout is not importable at all
    assert lines[3] == "{'fusion': 'time_strided_sample'}" and int(lines[4]) > 0
    assert lines[5] == "(1, 6) red_circle_moving_left"
    result = run(installed, installed["script"], "lesson", "pathways", "--out", "lesson",
                 "--quiet", *TINY)
    results = json.loads((installed["cwd"] / "lesson" / "results.json").read_text())
    assert {r["steps"] for r in results.values()} == {1} and len(results) == 3
    assert "| slowfast | slowfast_tiny |" in result.stdout


def test_the_demo_from_the_wheel_answers_and_leaves_nothing_behind(installed, tmp_path):
    from gradio_client import Client, handle_file

    from slowfast_edu.app.menu import DEFAULT_LABEL

    from .app.test_preview import write_gif

    temp = tmp_path / "tmp"
    temp.mkdir()
    with socket.socket() as busy:  # port P is taken: the demo serves on the next free one
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = subprocess.Popen([installed["script"], "demo", "--port", str(port)],
                                   cwd=installed["cwd"], env={**installed["env"],
                                                              "TMPDIR": str(temp)},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log: list[str] = []
        try:
            deadline = time.monotonic() + 180
            while not any("The app is at" in line for line in log):
                line = process.stdout.readline()
                assert line and time.monotonic() < deadline, "".join(log)
                log.append(line)
            url = log[-1].split("The app is at ")[1].split()[0]
            assert f"port {port} is taken" in "".join(log) and f":{port}/" not in url
            assert url.startswith("http://127.0.0.1:") and "this machine only" in log[-1]
            config = httpx.get(f"{url}config", timeout=10).json()
            assert config["title"] == "SlowFast: what each pathway saw"
            client = Client(url, verbose=False, analytics_enabled=False,
                            download_files=str(tmp_path / "downloads"))
            answer = client.predict(handle_file(str(write_gif(tmp_path / "clip.gif"))),
                                    DEFAULT_LABEL, api_name="/classify")  # a GIF is taken
            assert answer[0]["label"] and "Processing time" in answer[-1]
            assert any(p.name.startswith("slowfast_edu_") for p in temp.iterdir())
        finally:
            process.send_signal(signal.SIGTERM)
            output = "".join(log) + process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert "share=True" not in output and "Traceback" not in output
    # torch makes torchinductor_<user>, its own cache folder, when torchvision is imported
    assert [p.name for p in temp.iterdir() if not p.name.startswith("torchinductor_")] == []
