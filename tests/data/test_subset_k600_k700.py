"""The subset builder on Kinetics-600 and -700 annotation CSVs (the official layout is the same:
`label,youtube_id,time_start,time_end,split`): class names that Kinetics-400 lacks, some with
apostrophes and parentheses, chosen by count, by name or from the label maps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slowfast_edu.data.subset import build_subset, choose_classes, plan_subset, read_annotations

from .conftest import write_video

HEADER = "label,youtube_id,time_start,time_end,split"
ROWS = [  # Kinetics-700-2020 names (the last two are also in Kinetics-600)
    "passing American football (in game),pa1,10,20,train",
    "passing American football (in game),pa2,0,10,val",
    "massaging person's head,mh1,3,13,train",
    "massaging person's head,mh2,30,40,val",
    "acting in play,ap1,5,15,train",
    "adjusting glasses,ag1,1,11,train",
]


def test_700_style_rows_are_read_and_planned(tmp_path):
    csv = tmp_path / "k700_train.csv"
    csv.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    rows = read_annotations(csv)
    assert [r.label for r in rows][:2] == ["passing American football (in game)"] * 2
    classes = choose_classes([r.label for r in rows], 2)  # alphabetical: the first two
    assert classes == ["acting in play", "adjusting glasses"]
    named = choose_classes([r.label for r in rows], "massaging person's head")
    plan = plan_subset(rows, named, per_class=2)
    assert [(c.youtube_id, c.split) for c in plan] == [("mh1", "train"), ("mh2", "val")]
    assert plan[0].path == "videos/massaging_person's_head/mh1_000003_000013.mp4"  # no spaces


@pytest.mark.parametrize("classes", [600, 700])
def test_classes_from_the_label_maps(shared_dir, classes):
    label_map = shared_dir / "kinetics" / f"label_map_k{classes}.txt"
    if not label_map.is_file():
        pytest.skip(f"{label_map} is absent")
    names = label_map.read_text(encoding="utf-8").splitlines()
    assert choose_classes(names, str(label_map)) == sorted(names) and len(names) == classes


def test_a_700_style_subset_is_built_from_a_local_copy(tmp_path: Path):
    source = tmp_path / "kinetics700"
    source.mkdir()
    for name in ("pa1_000010_000020", "pa2_000000_000010"):
        write_video(source / f"{name}.mp4", 30, 48, 64, rate=25)
    csv = tmp_path / "k700.csv"
    csv.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    report = build_subset(csv, out, "passing American football (in game)", 1, source=source,
                          short_side=32, progress=False)
    assert [c.youtube_id for c in report.videos["train"]] == ["pa1"]
    folder = "videos/passing_American_football_(in_game)"
    assert (out / "train.csv").read_text().splitlines() == [f"{folder}/pa1_000010_000020.mp4 0"]
    assert (out / "val.csv").read_text().splitlines() == [f"{folder}/pa2_000000_000010.mp4 0"]
    assert json.loads((out / "classnames.json").read_text()) == [
        "passing American football (in game)"]
