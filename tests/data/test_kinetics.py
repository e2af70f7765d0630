"""KineticsDataset over the three list layouts, in train and multi-view test mode, with a corrupt
video in the list: the epoch completes and the bad file is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from slowfast_edu.data.kinetics import KineticsDataset, read_video_list
from slowfast_edu.labels import load_label_map
from slowfast_edu.data.transforms import denormalize

from .conftest import SMALL, read_index, write_small_videos, write_video



@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kinetics")
    write_small_videos(root)
    (root / "corrupt.mp4").write_bytes(torch.randint(0, 256, (5000,), dtype=torch.uint8)
                                       .numpy().tobytes())
    lines = ["a0.mp4 0", "a1.mp4 0", "b0.mp4 1", "b1.mp4 1", "corrupt.mp4 1", "gone.mp4 0"]
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    return root


def test_train_epoch_completes_and_reports_the_corrupt_video(videos):
    ds = KineticsDataset(videos / "train.csv", mode="train", **SMALL)
    assert ds.missing == [str(videos / "gone.mp4")]
    assert len(ds) == 5
    loader = DataLoader(ds, batch_size=2, num_workers=2, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    seen = 0
    for (slow, fast), labels, index in loader:
        assert slow.shape[1:] == (3, 2, 32, 32) and fast.shape[1:] == (3, 8, 32, 32)
        seen += len(labels)
    assert seen == 5  # the corrupt video was replaced, not dropped: a full epoch
    skipped = ds.pop_skipped()
    assert list(skipped) == [str(videos / "corrupt.mp4")]
    assert "corrupt.mp4" in skipped[str(videos / "corrupt.mp4")]
    assert ds.pop_skipped() == {}  # reported once
    assert "4 videos" not in repr(ds) and "1 missing" in repr(ds)


def test_test_mode_gives_k_by_3_views_with_the_video_index(videos):
    ds = KineticsDataset(videos / "train.csv", mode="test", num_clips=2, num_crops=3, **SMALL)
    assert len(ds) == 5 * 2 * 3
    (slow, fast), label, video = ds[6]  # video 1, clip 0, crop 0
    assert (label, video) == (0, 1)
    frames = denormalize(fast)  # (T, H, W, 3), crop of the full height: the bands are whole
    # linspace(0, 15, 8): the window's 16 frames, first and last included
    assert [read_index(f.numpy()) for f in frames] == [0, 2, 4, 6, 8, 10, 12, 15]
    (_, fast), _, _ = ds[9]  # clip 1 starts at (40 - 16) * 1 / 2 = 12
    assert read_index(denormalize(fast)[0].numpy()) == 12
    # a corrupt video in test mode: blank views marked video -1, so no other video's score
    # counts twice; the epoch goes on
    (slow, fast), label, video = ds[4 * 6]
    assert (label, video) == (1, -1) and fast.shape == (3, 8, 32, 32) and not fast.any()
    assert str(videos / "corrupt.mp4") in ds.pop_skipped()


def test_a_bad_video_in_test_mode_gives_no_views_to_its_neighbour(videos):
    from slowfast_edu.train.metrics import VideoScores

    ds = KineticsDataset(videos / "train.csv", mode="test", num_clips=2, num_crops=1, **SMALL)
    views = {}
    scores = VideoScores(2)
    for (slow, fast), label, video in DataLoader(ds, batch_size=4):
        for v in video.tolist():
            views[v] = views.get(v, 0) + 1
        scores.add(torch.randn(len(label), 2), label, video)
    assert views == {0: 2, 1: 2, 2: 2, 3: 2, -1: 2}  # corrupt.mp4 (video 4): 2 blank views
    assert scores.results()["videos"] == 4 and set(scores.counts.values()) == {2}
    assert list(ds.pop_skipped()) == [str(videos / "corrupt.mp4")]


def test_the_skip_log_leaves_nothing_in_the_temp_folder(videos, tmp_path, monkeypatch):
    import gc
    import os
    import tempfile

    from slowfast_edu.data import kinetics

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    ds = KineticsDataset(videos / "train.csv", mode="train", **SMALL)
    assert list(temp.iterdir()) == []  # nothing made until a video fails
    ds[4]  # corrupt.mp4: logged (another video's view stands in)
    assert [p.parent for p in temp.glob("*/*.tsv")] == [ds.log_dir]
    assert list(ds.pop_skipped()) == [str(videos / "corrupt.mp4")]
    assert list(temp.iterdir()) == []  # popped: the folder is gone
    kinetics._remove_log_dir(ds.log_dir, os.getpid() + 1)  # a forked worker never removes it
    ds[4]  # logged again and never popped ...
    assert len(list(temp.iterdir())) == 1
    del ds
    gc.collect()
    assert list(temp.iterdir()) == []  # ... removed with the dataset


def test_official_annotations_with_flat_and_per_class_folders(tmp_path):
    (tmp_path / "abseiling").mkdir()
    write_video(tmp_path / "aaa_000010_000020.mp4", num_frames=20, height=32, width=32, rate=30)
    write_video(tmp_path / "abseiling" / "bbb_000000_000010.mp4", num_frames=20, height=32,
                width=32, rate=30)
    csv = tmp_path / "ann.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split,is_cc\n"
                   "archery,aaa,10,20,val,0\nabseiling,bbb,0,10,val,0\n"
                   "abseiling,ccc,5,15,val,0\narchery,ddd,1,11,train,0\n")
    labels = tmp_path / "labels.txt"
    labels.write_text("abseiling\nair drumming\narchery\n")
    ds = KineticsDataset(csv, mode="train", classnames=labels, split="val", **SMALL)
    assert ds.classnames == ["abseiling", "air drumming", "archery"]
    assert [(p.name, y) for p, y in ds.videos] == [("aaa_000010_000020.mp4", 2),
                                                   ("bbb_000000_000010.mp4", 0)]
    assert [Path(p).name for p in ds.missing] == ["ccc_000005_000015.mp4"]
    (slow, fast), label, _ = ds[0]
    assert label == 2 and fast.shape == (3, 8, 32, 32)


def test_official_annotations_from_shared(shared_dir, tmp_path):
    videos, names = read_video_list(shared_dir / "kinetics" / "kinetics-400_val_sample20.csv",
                                    tmp_path, load_label_map(
                                        shared_dir / "kinetics" / "label_map_k400.txt"))
    assert len(names) == 400 and len(videos) == 20
    assert all(0 <= label < 400 for _, label in videos)


def test_folder_per_class(tmp_path):
    for name in ["jumping", "archery"]:
        (tmp_path / name).mkdir()
        write_video(tmp_path / name / "x.mp4", num_frames=16, height=32, width=32, rate=30)
    (tmp_path / "archery" / "notes.txt").write_text("not a video")
    ds = KineticsDataset(tmp_path, **SMALL)
    assert ds.classnames == ["archery", "jumping"]
    assert [y for _, y in ds.videos] == [0, 1]


def test_label_maps_in_every_format(tmp_path):
    (tmp_path / "a.txt").write_text("x\ny z\n")
    (tmp_path / "b.json").write_text(json.dumps(["x", "y z"]))
    (tmp_path / "c.json").write_text(json.dumps({'"y z"': 1, "x": 0}))  # PySlowFast's quoting
    assert {tuple(load_label_map(tmp_path / f)) for f in ["a.txt", "b.json", "c.json"]} == {
        ("x", "y z")}


def test_bad_lists_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no video list"):
        KineticsDataset(tmp_path / "nope.csv")
    (tmp_path / "bad.csv").write_text("just-a-path\n")
    with pytest.raises(ValueError, match="bad.csv, line 1: expected `path label`"):
        KineticsDataset(tmp_path / "bad.csv")
    (tmp_path / "none.csv").write_text("a.mp4 0\n")
    with pytest.raises(FileNotFoundError, match="none of the 1 videos"):
        KineticsDataset(tmp_path / "none.csv")


def test_flips_can_be_turned_off_for_direction_labels(videos):
    ds = KineticsDataset(videos / "train.csv", mode="train", flip=False, **SMALL)
    steps = [t for t in ds.transforms[0].transforms.transforms]
    assert not any(type(t).__name__ == "RandomHorizontalFlip" for t in steps)
