"""Published weights: download from a loopback zoo, refuse bad files, load the reference layouts.

The real zoo cannot be reached from the test machines, so the fixture builds its own: PyTorchVideo's
randomly initialised `slowfast_r50` (with non-trivial BN) saved as `SLOWFAST_8x8_R50.pyth` the way
the zoo stores it, and a class-name table in PySlowFast's format, served over HTTP on 127.0.0.1 by
a server that honours `Range` requests and can break a transfer off, as a flaky network does.
"""

from __future__ import annotations

import http.server
import json
import os
import pickle
import random
import re
import shlex
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import slowfast_edu
from slowfast_edu.cli import main
from slowfast_edu.models import (PRESETS, CheckpointError, build_model, convert_state_dict,
                                 load_checkpoint, load_label_map, load_pretrained, load_weights)
from slowfast_edu.models.weights import (DownloadError, cache_dir, download, find_weights,
                                         hub_dir, load_kinetics_classnames)

from ..conftest import SHARED, randomize_bn

LABEL_MAP = SHARED / "kinetics" / "label_map_k400.txt"

# PyTorchVideo's hub models warn that torch.jit.script is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
CLIP = dict(slow=8, fast=32, size=32)  # small and quick: res4 maps are 2 x 2, res5 maps 1 x 1
ZOO_FILE = "SLOWFAST_8x8_R50.pyth"


def _kinetics_names() -> list[str]:
    """The 400 Kinetics names when ../shared has them, else 400 made-up ones, a third multi-word."""
    if LABEL_MAP.is_file():
        return LABEL_MAP.read_text().splitlines()
    return [f"doing thing number {i:03d} (in game)" if i % 3 == 0 else f"action{i:03d}"
            for i in range(400)]


def _pyslowfast_json(names: list[str]) -> str:
    """PySlowFast's table: {name: id}, multi-word names wrapped in literal double quotes."""
    return json.dumps({f'"{n}"' if " " in n else n: i for i, n in enumerate(names)})


def _clip() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    size = (CLIP["size"],) * 2
    return [torch.randn(1, 3, CLIP["slow"], *size, generator=g),
            torch.randn(1, 3, CLIP["fast"], *size, generator=g)]


class _ZooHandler(http.server.BaseHTTPRequestHandler):
    """Serves the files under `server.root`, with `Range: bytes=N-`; a path in `server.cut`
    is broken off after that many bytes, once."""

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))
        path = self.server.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        cut = self.server.cut.pop(self.path, None)
        self.wfile.write(data[start:cut] if cut is not None else data[start:])
        if cut is not None:
            self.close_connection = True

    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """A loopback model zoo: /SLOWFAST_8x8_R50.pyth and /kinetics_classnames.json, and the same
    under /flaky/ (broken off once), a truncated checkpoint under /truncated/, a Slow-only one
    under /other/, and the class names one per line under /listed/."""
    from pytorchvideo.models.hub import slowfast_r50

    root = tmp_path_factory.mktemp("zoo")
    # the fixed head pooling window covers the whole res5 map of the small test clip
    reference = slowfast_r50(pretrained=False,
                             head_pool_kernel_sizes=((8, 1, 1), (32, 1, 1))).eval()
    randomize_bn(reference)
    torch.save({"model_state": reference.state_dict(), "epoch": 196}, root / ZOO_FILE)
    names = _kinetics_names()
    (root / "kinetics_classnames.json").write_text(_pyslowfast_json(names))
    for folder in ("flaky", "truncated", "other", "listed"):
        (root / folder).mkdir()
    for name in (ZOO_FILE, "kinetics_classnames.json"):
        os.link(root / name, root / "flaky" / name)
    data = (root / ZOO_FILE).read_bytes()
    (root / "truncated" / ZOO_FILE).write_bytes(data[:len(data) // 3])
    slow_only = randomize_bn(build_model("slow_tiny"))  # another network, under the right name
    torch.save({"model_state": convert_state_dict(slow_only.state_dict(), "slowfast_edu",
                                                  "pytorchvideo")}, root / "other" / ZOO_FILE)
    os.link(root / ZOO_FILE, root / "listed" / ZOO_FILE)
    (root / "listed" / "label_map_k400.txt").write_text("\n".join(names) + "\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ZooHandler)
    server.root, server.requests, server.cut = root, [], {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", root=root,
                          requests=server.requests, cut=server.cut, reference=reference,
                          names=names, size=len(data))
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """An empty slowfast_edu cache and an empty torch hub cache."""
    monkeypatch.setenv("SLOWFAST_EDU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for name in ("SLOWFAST_EDU_ZOO_URL", "SLOWFAST_EDU_CLASSNAMES_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cache"


@pytest.fixture()
def tiny_checkpoint(tmp_path):
    """A small SlowFast and its weights saved under "model_state", as the zoo's `.pyth` are."""
    model = build_model("slowfast_tiny")
    path = tmp_path / "tiny.pyth"
    torch.save({"model_state": model.state_dict()}, path)
    return model, path


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---------------------------------------------------------------- `slowfast-edu weights`

def test_download_resumes_after_an_interruption_then_loads_offline_as_pytorchvideo(
        zoo, cache, capsys):
    zoo.requests.clear()
    zoo.cut[f"/flaky/{ZOO_FILE}"] = zoo.size * 2 // 5  # the connection drops at 40%
    assert main(["weights", "download", "slowfast_8x8_r50", "--from", f"{zoo.url}/flaky",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"error: the download of .*/flaky/SLOWFAST_8x8_R50\.pyth was interrupted "
                     r"after 55\.\d MB of 138\.\d MB .*run the same command again to resume", err)
    assert _files(cache) == [ZOO_FILE + ".part"]  # the part is kept, nothing else

    assert main(["weights", "download", "slowfast_8x8_r50", "--from", f"{zoo.url}/flaky",
                 "--quiet"]) == 0
    assert zoo.requests == [(f"/flaky/{ZOO_FILE}", None),  # the first try, broken off ...
                            (f"/flaky/{ZOO_FILE}", f"bytes={zoo.size * 2 // 5}-"),  # resumed
                            ("/flaky/kinetics_classnames.json", None)]
    assert "checked: every key and shape fits slowfast_8x8_r50" in capsys.readouterr().out
    assert _files(cache) == [ZOO_FILE, "kinetics_classnames.json"]
    assert (cache / ZOO_FILE).read_bytes() == (zoo.root / ZOO_FILE).read_bytes()

    zoo.requests.clear()
    model = load_pretrained("slowfast_8x8_r50", download=False)  # offline: from the cache
    assert zoo.requests == [] and not any(m.training for m in model.modules())
    with torch.no_grad():
        ours, theirs = model(_clip()), zoo.reference(_clip())  # PyTorchVideo mutates its input list
    assert ours.shape == theirs.shape == (1, 400)
    assert (ours - theirs).abs().max().item() <= 1e-4
    assert ours.std().item() > 1e-3  # the logits depend on the input: not a degenerate comparison
    assert model.classnames == zoo.names and len(model.classnames) == 400
    assert not any(n.startswith('"') or n.endswith('"') for n in model.classnames)
    assert sum(" " in n for n in model.classnames) > 10  # the quoted multi-word names came through

    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"cached ({cache / ZOO_FILE})" in listing and "139 MB" in listing
    assert "76.94 / 92.69 (PyTorchVideo model zoo" in listing and "the paper: 77.0" in listing


@pytest.mark.parametrize("folder, why", [
    ("truncated", r"truncated or corrupt"),
    ("other", r"(?s)is not a slowfast_8x8_r50 checkpoint .*shape mismatch.*465 missing key")])
def test_a_bad_file_under_the_right_name_is_refused_and_deleted(zoo, cache, capsys, folder, why):
    assert main(["weights", "download", "slowfast_8x8_r50", "--from", f"{zoo.url}/{folder}",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: refused {zoo.url}/{folder}/{ZOO_FILE}, deleted it from the "
                          f"cache: ")
    assert re.search(why, err) and "Traceback" not in err
    assert _files(cache) == []  # nothing stays in the cache


def test_a_local_mirror_with_a_plain_label_map_and_torch_hubs_cache(zoo, cache, tmp_path):
    files = slowfast_edu.models.download_weights("slowfast_8x8_r50", zoo.root / "listed",
                                                 progress=False)
    assert files.checkpoint == cache / ZOO_FILE and files.classnames.name == "label_map_k400.txt"
    assert load_label_map(files.classnames) == zoo.names
    for name in _files(cache):
        (cache / name).unlink()

    hub = hub_dir()  # PyTorchVideo's torch.hub.load leaves its download here
    assert hub == tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    os.link(zoo.root / ZOO_FILE, hub / ZOO_FILE)
    assert find_weights("slowfast_8x8_r50").checkpoint == hub / ZOO_FILE
    assert not find_weights("slowfast_8x8_r50").complete  # the class names are still missing
    zoo.requests.clear()
    files = slowfast_edu.models.download_weights("slowfast_8x8_r50", zoo.url, progress=False)
    assert files.checkpoint == hub / ZOO_FILE  # used where it is, never fetched again
    assert zoo.requests == [("/kinetics_classnames.json", None)]
    assert _files(cache) == ["kinetics_classnames.json"]


def test_published_weights_carry_their_metadata():
    preset = PRESETS["slowfast_8x8_r50"]
    weights = preset.weights
    assert weights.url == ("https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/"
                           "SLOWFAST_8x8_R50.pyth")
    assert weights.classnames_files == ("kinetics_classnames.json", "label_map_k400.txt")
    assert (weights.accuracy.top1, weights.accuracy.top5) == (76.94, 92.69)
    assert "PyTorchVideo model zoo" in weights.accuracy.source
    assert preset.paper.top1 == 77.0 and "Table 2" in preset.paper.source
    g = preset.geometry  # the test view: 32 frames at stride 2, short side 256, 256 crops
    assert (g.num_frames, g.sampling_rate, g.test_short_side, g.test_crop_size) == (32, 2, 256, 256)
    assert (weights.mean, weights.std) == ((0.45,) * 3, (0.225,) * 3)
    assert preset.top1 == 76.94 and PRESETS["slowfast_4x16_r50"].top1 == 75.6  # zoo, else paper


# ---------------------------------------------------------------- loading the published weights

def test_load_weights_accepts_layouts_and_wrappers(tiny_checkpoint):
    model, _ = tiny_checkpoint
    reference = model.state_dict()
    pyslowfast = convert_state_dict(reference, "slowfast_edu", "pyslowfast")
    for weights in (pyslowfast, {"state_dict": reference},
                    {"model": {f"module.{k}": v for k, v in reference.items()}}):  # DDP prefix
        fresh = load_weights(build_model("slowfast_tiny"), weights)
        assert all(torch.equal(v, reference[k]) for k, v in fresh.state_dict().items())


def test_load_weights_strict_false_fine_tunes_another_head(tiny_checkpoint):
    model, _ = tiny_checkpoint
    backbone = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    fresh = load_weights(build_model("slowfast_tiny", num_classes=10), backbone, strict=False)
    assert torch.equal(fresh.slow.res5[0].conv_c.weight, model.slow.res5[0].conv_c.weight)
    assert fresh.head.proj.out_features == 10


# ---------------------------------------------------------------- files that must be refused

def test_missing_and_empty_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothere\.pyth does not exist"):
        load_checkpoint(tmp_path / "nothere.pyth")
    (tmp_path / "empty.pyth").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.pyth is empty \(0 bytes\)"):
        load_checkpoint(tmp_path / "empty.pyth")


def test_truncated_checkpoint(tiny_checkpoint, tmp_path):
    _, path = tiny_checkpoint
    data = path.read_bytes()
    (tmp_path / "cut.pyth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pyth is truncated or corrupt"):
        load_checkpoint(tmp_path / "cut.pyth")


def test_random_bytes_and_error_pages(tmp_path):
    (tmp_path / "noise.pyth").write_bytes(b"\x13" + random.Random(0).randbytes(4096))
    (tmp_path / "page.pyth").write_text("<html><body>404 Not Found</body></html>")
    for name in ("noise.pyth", "page.pyth"):
        with pytest.raises(CheckpointError,
                           match=rf"{re.escape(name)} is not a PyTorch checkpoint"):
            load_checkpoint(tmp_path / name)


class _Payload:
    """Unpickling this runs a shell command: what a hostile checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.command = f"touch {shlex.quote(str(marker))}"

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_hostile_pickle_is_refused_without_running(tmp_path, writer):
    marker, path = tmp_path / "payload_ran", tmp_path / "hostile.pyth"
    payload = {"model_state": {"w": torch.zeros(2)}, "cfg": _Payload(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match=r"hostile\.pyth contains pickled code.*refusing to "
                                              r"load it \(weights_only=True\)"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"hostile\.pyth"):
        load_weights(build_model("slowfast_tiny"), path)
    assert not marker.exists()
    if writer == "pickle":  # the payload is real: unpickling it unsafely does run it
        pickle.loads(path.read_bytes())
        assert marker.exists()


def test_file_without_tensors(tmp_path):
    torch.save({"epoch": 3, "model_state": {"note": "empty"}}, tmp_path / "hollow.pyth")
    with pytest.raises(CheckpointError, match=r"hollow\.pyth holds no tensors"):
        load_checkpoint(tmp_path / "hollow.pyth")


def test_wrong_model_lists_missing_and_unexpected_keys(tmp_path):
    other = build_model("slowfast_tiny", nonlocal_blocks=((), (), (0,), ()))
    torch.save({"model_state": other.state_dict()}, tmp_path / "other.pyth")
    model = build_model("slowfast_tiny", stage_blocks=(1, 1, 3, 1))  # res4 has 2 extra blocks
    with pytest.raises(CheckpointError) as info:
        load_weights(model, tmp_path / "other.pyth")
    message = str(info.value)
    assert "other.pyth" in message
    # 2 blocks x 2 pathways x (3 convs + 3 BNs of 5 entries, less 3 batch counters) = 60
    assert "60 missing key(s)" in message and "fast.res4.1.conv_a.weight" in message
    assert "... and 50 more" in message  # the first 10 are spelled out
    assert "13 unexpected key(s)" in message and "slow.res4.nonlocal0.conv_g.weight" in message


def test_shape_mismatch_is_listed(tiny_checkpoint):
    _, path = tiny_checkpoint
    with pytest.raises(CheckpointError) as info:
        load_weights(build_model("slowfast_tiny", num_classes=10), path)
    message = str(info.value)
    assert "tiny.pyth" in message and "2 shape mismatch(es)" in message
    assert "head.proj.weight: checkpoint (400, 1152), model (10, 1152)" in message
    assert "missing" not in message and "unexpected" not in message


def test_state_dict_of_another_network(tmp_path):
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "linear.pt")
    with pytest.raises(CheckpointError, match=r"linear\.pt: not a SlowFast state dict"):
        load_weights(build_model("slowfast_tiny"), tmp_path / "linear.pt")


# ---------------------------------------------------------------- downloads and class names

def test_http_404_names_the_url(zoo, cache, monkeypatch):
    monkeypatch.setenv("SLOWFAST_EDU_ZOO_URL", f"{zoo.url}/nothing/here")
    assert cache_dir() == cache
    url = f"{zoo.url}/nothing/here/SLOW_8x8_R50.pyth"
    dest = cache / "SLOW_8x8_R50.pyth"
    with pytest.raises(DownloadError, match=rf"cannot download {re.escape(url)}: HTTP 404 .*put "
                                            rf"the file at {re.escape(str(dest))}"):
        load_pretrained("slow_8x8_r50", progress=False)
    assert _files(cache) == []  # no half file left behind
    with pytest.raises(FileNotFoundError, match="slowfast-edu weights download slow_8x8_r50"):
        load_pretrained("slow_8x8_r50", download=False)


def test_download_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (in the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x.pyth"
        with pytest.raises(DownloadError,
                           match=rf"cannot download {re.escape(url)}: no answer within 0\.5 s"):
            download(url, tmp_path / "x.pyth", progress=False, timeout=0.5)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_ignores_range_sends_the_whole_file_again(tmp_path):
    import functools

    served = tmp_path / "served"
    served.mkdir()
    (served / "names.json").write_bytes(random.Random(1).randbytes(20_000))
    (tmp_path / "names.json.part").write_bytes(b"stale bytes of an older file")
    class Plain(http.server.SimpleHTTPRequestHandler):  # no Range support
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Plain, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        download(f"http://127.0.0.1:{server.server_port}/names.json", tmp_path / "names.json",
                 progress=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert (tmp_path / "names.json").read_bytes() == (served / "names.json").read_bytes()
    assert not (tmp_path / "names.json.part").exists()


def test_download_skips_existing_file(zoo, tmp_path):
    dest = tmp_path / "kinetics_classnames.json"
    dest.write_text("{}")
    zoo.requests.clear()
    assert download(f"{zoo.url}/kinetics_classnames.json", dest) == dest
    assert zoo.requests == [] and dest.read_text() == "{}"


def test_classnames_from_env_url_into_env_cache(zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("SLOWFAST_EDU_CLASSNAMES_URL", f"{zoo.url}/kinetics_classnames.json")
    monkeypatch.setenv("SLOWFAST_EDU_CACHE", str(tmp_path))
    assert load_kinetics_classnames() == zoo.names
    assert (tmp_path / "kinetics_classnames.json").is_file()


def test_classnames_strip_quotes_and_validate_ids(tmp_path):
    path = tmp_path / "names.json"
    path.write_text(json.dumps({'"passing American football (in game)"': 1, "abseiling": 0}))
    assert load_kinetics_classnames(path) == ["abseiling", "passing American football (in game)"]
    path.write_text(json.dumps({"a": 0, "b": 0, "c": 2}))
    with pytest.raises(ValueError, match=r"names\.json: class ids must be 0\.\.2.*duplicated: "
                                         r"\[0\], missing: \[1\]"):
        load_kinetics_classnames(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"cannot read class names from .*names\.json"):
        load_kinetics_classnames(path)


def test_label_maps_in_every_accepted_format(tmp_path):
    names = ["abseiling", "air drumming", "passing American football (in game)"]
    files = {"pyslowfast.json": _pyslowfast_json(names), "list.json": json.dumps(names),
             "names.txt": "\n".join(names) + "\n\n", "names.csv": "\n".join(names)}
    for file, text in files.items():
        (tmp_path / file).write_text(text)
        assert load_label_map(tmp_path / file, num_classes=3) == names, file
    with pytest.raises(ValueError, match=r"names\.txt lists 3 class names; the model predicts "
                                         r"400 classes"):
        load_label_map(tmp_path / "names.txt", num_classes=400)
    (tmp_path / "twice.txt").write_text("a\nb\na\n")
    with pytest.raises(ValueError, match=r"twice\.txt names a class more than once: \['a'\]"):
        load_label_map(tmp_path / "twice.txt")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="holds no class names"):
        load_label_map(tmp_path / "empty.txt")


def test_the_shared_label_map_equals_pyslowfasts_table(shared_dir, tmp_path):
    listed = load_label_map(shared_dir / "kinetics" / "label_map_k400.txt", num_classes=400)
    (tmp_path / "kinetics_classnames.json").write_text(_pyslowfast_json(listed))
    assert load_label_map(tmp_path / "kinetics_classnames.json") == listed


def test_unknown_preset_and_preset_without_checkpoint():
    with pytest.raises(ValueError, match=r"unknown model 'slowfast_9x9'.*slowfast_8x8_r50"):
        load_pretrained("slowfast_9x9")
    with pytest.raises(ValueError, match=r"slowfast_tiny has no published checkpoint") as info:
        load_pretrained("slowfast_tiny")
    published = ["slowfast_8x8_r50", "slowfast_8x8_r101_101_101", "slowfast_16x8_r101",
                 "slow_8x8_r50"]
    assert all(name in str(info.value) for name in published)
    assert [n for n, p in PRESETS.items() if p.checkpoint] == published


# ---------------------------------------------------------------- layout conversion

@pytest.mark.parametrize("name", ["slowfast_8x8_r50", "slow_8x8_r50", "slowfast_16x8_r101_nl"])
def test_convert_round_trip_through_pyslowfast(name):
    with torch.device("meta"):  # the layout only: no memory, no initialisation
        ours = build_model(name).state_dict()
    theirs = convert_state_dict(ours, "slowfast_edu", "pyslowfast")
    assert len(theirs) == len(ours)
    assert "s1.pathway0_stem.conv.weight" in theirs and "head.projection.weight" in theirs
    assert ("s4.pathway0_nonlocal6.conv_g.weight" in theirs) == name.endswith("_nl")
    assert ("s1_fuse.conv_f2s.weight" in theirs) == name.startswith("slowfast")
    back = convert_state_dict(theirs, "pyslowfast", "slowfast_edu")
    assert list(back) == list(ours)
    assert all(back[k] is ours[k] for k in ours)  # the very same tensors


@pytest.mark.parametrize("name, hub_builder", [
    ("slowfast_8x8_r50", "slowfast_r50"), ("slowfast_8x8_r101_101_101", "slowfast_r101"),
    ("slowfast_16x8_r101", "slowfast_16x8_r101_50_50"), ("slow_8x8_r50", "slow_r50")])
def test_every_published_preset_takes_its_zoo_layout(name, hub_builder):
    from pytorchvideo.models import hub

    assert PRESETS[name].checkpoint  # the presets load_pretrained serves
    with torch.device("meta"):
        zoo_layout = getattr(hub, hub_builder)(pretrained=False).state_dict()
        model = build_model(name)
    ours = convert_state_dict(zoo_layout, "pytorchvideo", "slowfast_edu")
    assert list(ours) != [] and set(ours) == set(model.state_dict())
    load_weights(model, zoo_layout, source="pytorchvideo")  # every name and shape fits


def test_public_api():
    assert slowfast_edu.load_pretrained is load_pretrained
    assert slowfast_edu.convert_state_dict is convert_state_dict
