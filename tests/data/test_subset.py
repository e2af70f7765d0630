"""The Kinetics subset builder: end to end against a loopback HTTP server (real clips and generated
ones, with ids the server does not have or serves broken), from a local copy (trimmed and untrimmed
files), resuming, and the errors a person meets."""

from __future__ import annotations

import csv
import http.server
import importlib.machinery
import json
import shutil
import socket
import sys
import threading
import types
from pathlib import Path

import pytest
import torch

from slowfast_edu.data import _fetch, _trim
from slowfast_edu.data.kinetics import KineticsDataset
from slowfast_edu.labels import load_label_map
from slowfast_edu.data.subset import (build_subset, choose_classes, main, plan_subset,
                                      read_annotations)
from slowfast_edu.data.video import VideoReader

from .conftest import read_index, write_video

CLIPS = Path(__file__).resolve().parents[2].parent / "shared" / "clips"
HEADER = "label,youtube_id,time_start,time_end,split"
SMALL = dict(num_frames=8, sampling_rate=2, alpha=4, crop_size=32, short_side=(32, 40))


@pytest.fixture
def clips() -> Path:
    if not CLIPS.is_dir():
        pytest.skip(f"{CLIPS} is absent (the real clips live there)")
    return CLIPS


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A loopback HTTP server over tmp_path/"www": (base URL, folder, list of paths requested)."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    root, requests = tmp_path / "www", []
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, requests
    httpd.shutdown()
    httpd.server_close()


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def unavailable(out: Path) -> dict[str, str]:
    with open(out / "unavailable.csv", newline="", encoding="utf-8") as f:
        return {row["youtube_id"]: row["reason"] for row in csv.DictReader(f)}


# fake id -> (real clip served as {id}.mp4, or None: 404 / "html": an error page), window
SERVED = {
    "aw1": ("arm_wrestling.mp4", 1, 4), "aw2": ("archery.avi", 1, 4), "aw3": (None, 1, 4),
    "cp1": ("cleaning_pool.mp4", 2, 5), "cp2": ("flipping_pancake.mkv", 1, 4),
    "cp3": ("cleaning_pool_32frames.mp4", 0, 10),  # a window past the end: cut where it ends
    "y1": ("yoga.mp4", 1, 4), "y2": ("html", 1, 4), "y3": ("basketball_drill_unlabelled.mp4", 3, 6),
}
LABELS = {"aw": "arm wrestling", "cp": "cleaning pool", "y": "yoga"}


def test_download_end_to_end_over_loopback_http(clips, server, tmp_path):
    base, www, requests = server
    for vid, (clip, _, _) in SERVED.items():
        if clip == "html":
            (www / f"{vid}.mp4").write_text("<!DOCTYPE html><html>Video unavailable</html>")
        elif clip is not None:
            shutil.copy(clips / clip, www / f"{vid}.mp4")  # copies in tmp, any container
    shutil.copy(clips / "yoga.mp4", www / "zz1.mp4")
    rows = [f"{LABELS[v.rstrip('123')]},{v},{s},{e},val" for v, (_, s, e) in SERVED.items()]
    annotations = write_csv(tmp_path / "val.csv", rows + ["zumba,zz1,1,4,val"])
    out = tmp_path / "subset"
    build = dict(annotations=annotations, out=out, classes=3, per_class=3, download=True,
                 url_template=base + "/{youtube_id}.mp4", short_side=128, workers=2,
                 progress=False)
    report = build_subset(**build)

    # one split in the CSV: each class's 3 videos split 2 train / 1 val (the last one)
    assert json.loads((out / "classnames.json").read_text()) == list(LABELS.values())
    assert lines(out / "train.csv") == [
        "videos/arm_wrestling/aw1_000001_000004.mp4 0",
        "videos/arm_wrestling/aw2_000001_000004.mp4 0",
        "videos/cleaning_pool/cp1_000002_000005.mp4 1",
        "videos/cleaning_pool/cp2_000001_000004.mp4 1",
        "videos/yoga/y1_000001_000004.mp4 2"]
    assert lines(out / "val.csv") == ["videos/cleaning_pool/cp3_000000_000010.mp4 1",
                                      "videos/yoga/y3_000003_000006.mp4 2"]
    gone = unavailable(out)
    assert set(gone) == {"aw3", "y2"}
    assert "HTTP 404" in gone["aw3"] and "/aw3.mp4" in gone["aw3"]
    assert "not a video file (looks like an HTML page" in gone["y2"]
    assert report.made == 7 and len(report.unavailable) == 2
    assert "/zz1.mp4" not in requests  # zumba is not among the first 3 classes
    assert not (out / ".downloads").exists()  # downloads are deleted once converted

    for line in lines(out / "train.csv") + lines(out / "val.csv"):
        vid = Path(line.split()[0]).name.split("_")[0]
        clip, start, end = SERVED[vid]
        with VideoReader(clips / clip) as source, VideoReader(out / line.split()[0]) as made:
            assert min(made.size) == 128 and made.size[0] % 2 == 0 == made.size[1] % 2
            assert made.fps == pytest.approx(source.fps)
            expected = min(end, source.duration) - start
            assert made.duration == pytest.approx(expected, abs=1.01 / source.fps), vid
            assert made.get_frames(list(range(made.num_frames))).shape[1:3] == made.size

    ds = KineticsDataset(out / "train.csv", mode="train", **SMALL)  # reads the CSV unchanged
    assert len(ds.videos) == 5 and ds.missing == []
    (slow, fast), label, _ = ds[4]
    assert (slow.shape, fast.shape, label) == ((3, 2, 32, 32), (3, 8, 32, 32), 2)

    # rerun: nothing to do, not one request (unavailable ids are not retried)
    before = len(requests)
    again = build_subset(**build)
    assert len(requests) == before and again.made == 0
    assert lines(out / "train.csv")[0] == "videos/arm_wrestling/aw1_000001_000004.mp4 0"
    # resume: only the deleted video is fetched again
    (out / "videos/cleaning_pool/cp2_000001_000004.mp4").unlink()
    assert build_subset(**build).made == 1 and requests[before:] == ["/cp2.mp4"]
    assert len(lines(out / "train.csv")) == 5
    # --retry-unavailable asks again for the two ids, which are still unavailable
    assert len(build_subset(**build, retry_unavailable=True).unavailable) == 2
    assert sorted(requests[before + 1:]) == ["/aw3.mp4", "/y2.mp4"]


def test_download_generated_clips_exact_frames(server, tmp_path):
    """Needs nothing from ../shared: the window's frames are exactly the right ones."""
    base, www, requests = server
    # URLs without a suffix: --direct says they are video files. Frame i shows i in grey bands.
    write_video(www / "g1.mp4", 100, 96, 128, rate=25).rename(www / "g1")  # 4 s
    write_video(www / "g2.mp4", 100, 128, 96, rate=25).rename(www / "g2")  # portrait
    annotations = write_csv(tmp_path / "k.csv", ["b,g1,1,3,train", "a,g2,2,10,train",
                                                 "a,g3,0,2,train", "b,g1,0,2,val"])
    out = tmp_path / "out"
    (out / "videos/a").mkdir(parents=True)  # what a killed run leaves: removed
    (out / "videos/a/old.mp4.part").write_bytes(b"half")
    report = build_subset(annotations, out, "a,b", 1, download=True, direct=True,
                          url_template=base + "/{youtube_id}", short_side=64, workers=1,
                          progress=False)
    assert lines(out / "train.csv") == ["videos/a/g2_000002_000010.mp4 0",
                                        "videos/b/g1_000001_000003.mp4 1"]
    assert lines(out / "val.csv") == ["videos/b/g1_000000_000002.mp4 1"]
    assert report.unavailable == []  # g3 (a 404) is not chosen: 1 train video per class
    windows = {"a/g2_000002_000010": (50, 100, (86, 64)), "b/g1_000001_000003": (25, 75, (64, 86)),
               "b/g1_000000_000002": (0, 50, (64, 86))}
    for name, (first, stop, size) in windows.items():
        with VideoReader(out / f"videos/{name}.mp4") as made:
            assert (made.num_frames, made.size) == (stop - first, size)
            frames = made.get_frames(list(range(made.num_frames)))
        assert [read_index(f.numpy()) for f in frames] == list(range(first, stop))
    assert not list(out.rglob("*.part")) and sorted(requests) == ["/g1", "/g1", "/g2"]


def test_local_source_trimmed_untrimmed_and_rotated(tmp_path):
    source = tmp_path / "kinetics"
    (source / "train" / "some class").mkdir(parents=True)
    write_video(source / "whole1.mkv", 100, 64, 96, rate=25)  # untrimmed, 4 s
    write_video(source / "train" / "some class" / "cut1_000417_000419.mp4", 50, 64, 96, rate=25)
    write_video(source / "bare1.mp4", 50, 64, 96, rate=25)  # a cut clip saved under its bare id
    write_video(source / "rot1.mp4", 25, 64, 96, rate=25, rotation=90)  # shown as 96 x 64
    (source / "bad1.mp4").write_bytes(b"\x00" * 1000)
    annotations = write_csv(tmp_path / "train.csv", [
        "x y,whole1,1,3,train", "x y,cut1,417,419,train", "x y,bare1,100,102,train",
        "x y,rot1,0,1,val", "x y,bad1,0,2,val", "x y,gone1,0,2,val", "x y,whole1,0,1,test"])
    out = tmp_path / "out"
    report = build_subset(annotations, out, 1, 3, source=source, short_side=32, progress=False)
    # the CSV has train and val rows: 3 of each per class, "test" rows ignored
    assert lines(out / "train.csv") == [f"videos/x_y/{n}.mp4 0" for n in (
        "whole1_000001_000003", "cut1_000417_000419", "bare1_000100_000102")]
    assert lines(out / "val.csv") == ["videos/x_y/rot1_000000_000001.mp4 0"]
    assert {c.youtube_id: r.split(":")[0] for c, r in report.unavailable} == {
        "bad1": "cannot decode 'bad1.mp4'",
        "gone1": f"not in {source} (neither gone1_000000_000002.* nor gone1.*)"}
    expected = {"whole1_000001_000003": (25, (32, 48)), "cut1_000417_000419": (0, (32, 48)),
                "bare1_000100_000102": (0, (32, 48)), "rot1_000000_000001": (None, (48, 32))}
    for name, (first, size) in expected.items():
        with VideoReader(out / f"videos/x_y/{name}.mp4") as made:
            assert made.size == size
            if first is not None:
                assert made.num_frames == 50
                assert read_index(made.get_frames([0])[0].numpy()) == first
    assert (source / "bad1.mp4").exists()  # the user's files are never deleted


def test_interrupted_run_leaves_no_half_file_and_resumes(tmp_path, monkeypatch):
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    for i in range(3):
        write_video(source / f"v{i}.mp4", 50, 64, 96, rate=25)
    annotations = write_csv(tmp_path / "a.csv", [f"a,v{i},0,2,train" for i in range(3)])
    real, calls = _trim._resized, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 60:  # Ctrl-C at the 10th frame of the second video
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(_trim, "_resized", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_subset(annotations, out, 1, 3, source=source, workers=1, short_side=32,
                     progress=False)
    made = sorted(p.name for p in (out / "videos/a").iterdir())
    assert "v0_000000_000002.mp4" in made and "v1_000000_000002.mp4" not in made
    assert not list(out.rglob("*.part"))  # no half-written video under any name
    listed = lines(out / "train.csv") + lines(out / "val.csv")  # written on the way out
    assert sorted(Path(line.split()[0]).name for line in listed) == made
    monkeypatch.setattr(_trim, "_resized", real)
    report = build_subset(annotations, out, 1, 3, source=source, short_side=32, progress=False)
    assert report.made == 3 - len(made) and len(lines(out / "train.csv")) == 2
    assert lines(out / "val.csv") == ["videos/a/v2_000000_000002.mp4 0"]


def test_short_side_256_on_a_real_clip(clips, tmp_path):
    annotations = write_csv(tmp_path / "a.csv", ["yoga,yoga,1,2,val"])
    report = build_subset(annotations, tmp_path / "out", "yoga", 1, source=clips, progress=False)
    assert report.summary().splitlines()[1:3] == ["  train:     1 videos, 0 unavailable",
                                                  "  val:       0 videos, 0 unavailable"]
    with VideoReader(tmp_path / "out/videos/yoga/yoga_000001_000002.mp4") as made:
        assert (made.size, made.num_frames, made.fps) == ((256, 340), 30, 30.0)  # 426x320 source


def test_plan_splits_by_fraction_deterministically(tmp_path):
    rows = read_annotations(write_csv(tmp_path / "a.csv", [
        f"{c},{c}{i},{i},{i + 10},val" for c in "ba" for i in range(12)]))
    plan = plan_subset(rows, ["a", "b"], 10)
    assert [(c.youtube_id, c.split) for c in plan[:10]] == [
        (f"a{i}", "train" if i < 8 else "val") for i in range(10)]
    assert sum(c.split == "val" for c in plan_subset(rows, ["a"], 2)) == 1  # at least one
    assert sum(c.split == "val" for c in plan_subset(rows, ["a"], 10, 0.5)) == 5


def test_plan_on_the_official_val_csv(clips):
    rows = read_annotations(clips.parent / "kinetics" / "kinetics-400_val.csv")
    names = choose_classes([r.label for r in rows], 400)
    assert len(rows) == 19906 and names[:2] == ["abseiling", "air drumming"]
    assert names == load_label_map(clips.parent / "kinetics" / "label_map_k400.txt")  # ids
    plan = plan_subset(rows, choose_classes(names, "yoga,abseiling"), 5)
    assert [(c.label, c.split) for c in plan] == [("abseiling", "train")] * 4 + [
        ("abseiling", "val")] + [("yoga", "train")] * 4 + [("yoga", "val")]
    assert plan[0].path == "videos/abseiling/0wR5jVB-WPk_000417_000427.mp4"


def test_unreachable_server_is_unavailable_not_fatal(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    annotations = write_csv(tmp_path / "a.csv", ["a,v1,0,2,val"])
    report = build_subset(annotations, tmp_path / "out", 1, 1, download=True, progress=False,
                          url_template=f"http://127.0.0.1:{port}/{{youtube_id}}.mp4")
    [(clip, reason)] = report.unavailable
    assert clip.youtube_id == "v1"
    assert reason.startswith(f"cannot download http://127.0.0.1:{port}/v1.mp4: ")


def test_ytdlp_path_with_a_stand_in_module(monkeypatch, tmp_path):
    """The yt-dlp glue (options, errors, finding the file) with a fake yt_dlp module."""
    clip = write_video(tmp_path / "clip.mp4", 50, 64, 96, rate=25)
    seen = []

    class DownloadError(Exception):
        pass

    class YoutubeDL:
        def __init__(self, options):
            self.options = options

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def download(self, urls):
            seen.append((urls, self.options))
            if "gone" in urls[0]:
                raise DownloadError("ERROR: [youtube] gone1: Video unavailable")
            shutil.copy(clip, self.options["outtmpl"] % {"ext": "mp4"})  # the window only

    fake = types.ModuleType("yt_dlp")
    fake.__spec__ = importlib.machinery.ModuleSpec("yt_dlp", None)
    fake.YoutubeDL = YoutubeDL
    fake.utils = types.SimpleNamespace(DownloadError=DownloadError,
                                       download_range_func=lambda c, r: ("ranges", r))
    monkeypatch.setitem(sys.modules, "yt_dlp", fake)
    monkeypatch.setattr(_fetch.shutil, "which", lambda name: "/usr/bin/ffmpeg")
    annotations = write_csv(tmp_path / "a.csv", ["a,abc-_1,30,32,val", "a,gone1,5,7,val"])
    report = build_subset(annotations, tmp_path / "out", 1, 2, download=True, short_side=32,
                          progress=False)
    assert [u for u, _ in seen] == [["https://www.youtube.com/watch?v=abc-_1"],
                                    ["https://www.youtube.com/watch?v=gone1"]]
    options = seen[0][1]
    assert "height<=360" in options["format"]
    assert options["download_ranges"] == ("ranges", [(30, 32)])
    assert [(c.youtube_id, r) for c, r in report.unavailable] == [
        ("gone1", "yt-dlp: [youtube] gone1: Video unavailable")]
    with VideoReader(tmp_path / "out/videos/a/abc-_1_000030_000032.mp4") as made:
        assert made.num_frames == 50  # a section download is the window: kept whole


@pytest.mark.parametrize("case, message", [
    ("no_csv", "annotation CSV {tmp}/nope.csv not found"),
    ("not_kinetics", "is not a Kinetics annotation CSV: no column label, youtube_id"),
    ("bad_time", "a.csv, line 3: time_start/time_end must be seconds, got 'x', '10'"),
    ("unknown_class", "unknown class 'yogaa' (did you mean 'yoga'?)"),
    ("too_many", "--classes 5: the annotations have 2 classes"),
    ("no_source", "--source {tmp}/missing: no such folder"),
    ("both", "argument --download: not allowed with argument --source"),
    ("no_ytdlp", "needs yt-dlp, an optional extra: pip install yt-dlp"),
    ("template", "--url-template 'http://x/{id}.mp4' must contain {youtube_id}"),
])
def test_bad_input_says_what_is_wrong(case, message, tmp_path, capsys, monkeypatch):
    good = write_csv(tmp_path / "a.csv", ["yoga,y1,0,10,val", "archery,a1,0,10,val"])
    args = {"--annotations": str(good), "--classes": "1", "--per-class": "1",
            "--out": str(tmp_path / "out"), "--source": str(tmp_path)}
    if case == "no_csv":
        args["--annotations"] = str(tmp_path / "nope.csv")
    elif case == "not_kinetics":
        args["--annotations"] = str(write_csv(tmp_path / "b.csv", ["v.mp4 0"], "path label"))
    elif case == "bad_time":
        write_csv(good, ["yoga,y1,0,10,val", "yoga,y2,x,10,val"])
    elif case in ("unknown_class", "too_many"):
        args["--classes"] = "yogaa,archery" if case == "unknown_class" else "5"
    elif case == "no_source":
        args["--source"] = str(tmp_path / "missing")
    argv = [token for item in args.items() for token in item]
    if case == "both":
        argv.append("--download")
    elif case in ("no_ytdlp", "template"):
        argv = argv[:-2] + ["--download"]
        monkeypatch.setattr(_fetch.importlib.util, "find_spec", lambda name: None)
        if case == "template":
            argv += ["--url-template", "http://x/{id}.mp4"]
    if case == "both":
        with pytest.raises(SystemExit):
            main(argv)
    else:
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err, err
    assert not (tmp_path / "out" / "videos").exists()  # nothing started
