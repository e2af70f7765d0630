"""Multi-label training: `model.head: multilabel` selects the sigmoid head, its BCE loss and
multi-label lists in the trainer, and `eval` reports mAP with each video scored by the maximum over
its views (the Charades protocol)."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import yaml

from slowfast_edu.cli import main
from slowfast_edu.data.synthetic_multilabel import write_dataset
from slowfast_edu.mean_ap import mean_average_precision
from slowfast_edu.models.head import MultiLabelHead
from slowfast_edu.train import Trainer
from slowfast_edu.train.config import ConfigError, load_config, resolve_config
from slowfast_edu.train.datasets import dataset_from_config
from slowfast_edu.train.multilabel import top1_hits

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: faster alone


@pytest.fixture(scope="module")
def multilabel_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("multilabel")
    write_dataset(root / "data", videos_train=8, videos_val=4, num_frames=16, size=32,
                  progress=False)
    config = {"model": {"name": "slowfast_tiny", "head": "multilabel"},
              "data": {"train": str(root / "data" / "train.csv"),
                       "val": str(root / "data" / "val.csv"), "crop_size": 32,
                       "flip": False, "num_workers": 0, "cache": True},
              "optim": {"base_lr": 0.1},
              "train": {"epochs": 1, "batch_size": 4}}
    path = root / "multilabel.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_trains_with_bce_and_evaluates_map_with_the_maximum_over_views(multilabel_config,
                                                                       tmp_path, capsys):
    run, report = tmp_path / "run", tmp_path / "eval"
    assert main(["train", str(multilabel_config), "--out", str(run), "--quiet",
                 "--device", "cpu"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert set(trained) >= {"val_mAP", "val_top1"} and "val_top5" not in trained
    with open(run / "metrics.csv") as f:
        [val] = [row for row in csv.DictReader(f) if row["split"] == "val"]
    assert float(val["mAP"]) == pytest.approx(trained["val_mAP"], abs=1e-6)
    best = torch.load(run / "best.pt", weights_only=False)
    assert best["best_top1"] == pytest.approx(trained["val_mAP"])  # best.pt is kept on mAP

    # what the trainer chose: the sigmoid head, multi-hot targets, binary cross-entropy
    config = resolve_config(load_config(multilabel_config))
    trainer = Trainer(config, tmp_path / "other", device="cpu", progress=False)
    assert trainer.multilabel and isinstance(trainer.model.head, MultiLabelHead)
    assert trainer.classnames[0] == "red_circle_moving_left" and len(trainer.classnames) == 6
    (slow, fast), targets, _ = next(iter(trainer._loader(trainer.train_set)))
    assert targets.shape == (4, 6) and set(targets.unique().tolist()) <= {0.0, 1.0}
    logits = trainer.model([slow, fast])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    assert torch.equal(trainer.model.head.loss(logits, targets), bce)
    # the training log's top-1 for multi-hot targets: the top class is one of the clip's
    assert top1_hits(torch.tensor([[0.1, 2.0, 0.3], [3.0, 0.0, 1.0]]),
                     torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])) == 1
    assert top1_hits(torch.tensor([[0.1, 2.0], [3.0, 0.0]]), torch.tensor([1, 1])) == 1

    assert main(["eval", str(multilabel_config), "--checkpoint", str(run), "--clips", "2",
                 "--crops", "1", "--out", str(report)]) == 0
    out = capsys.readouterr().out
    assert "4 videos x 2 views (scores: the maximum over a video's views): mAP" in out
    written = json.loads((report / "eval.json").read_text())
    # the same number by hand: every view's sigmoids, the maximum per video, then mAP
    model = trainer.model
    model.load_state_dict(best["model_state"])
    views = dataset_from_config(config["data"], config["data"]["val"], "test", 4, 2, 1,
                                multilabel=True)
    model.eval()
    with torch.inference_mode():
        scores = {}
        for i in range(len(views)):
            (slow, fast), target, video = views[i]
            p = model([slow[None], fast[None]]).sigmoid()[0]
            best_so_far, _ = scores.get(video, (torch.zeros(6), target))
            scores[video] = (torch.maximum(best_so_far, p), target)
    by_hand = mean_average_precision(torch.stack([s for s, _ in scores.values()]),
                                     torch.stack([t for _, t in scores.values()]))
    assert written["mAP"] == pytest.approx(by_hand, abs=1e-6) and written["videos"] == 4
    assert written["views"] == 2 and written["reduce"] == "max"
    assert len(written["per_class_ap"]) == 6


def test_the_head_is_said_once(multilabel_config):
    config = load_config(multilabel_config, ["model.overrides={head: classification}"])
    with pytest.raises(ConfigError, match="model.head=multilabel and model.overrides.head="
                                          "classification disagree"):
        resolve_config(config)
    with pytest.raises(ConfigError, match="head"):
        resolve_config(load_config(multilabel_config, ["model.head=sigmoid"]))
    assert resolve_config(load_config(multilabel_config))["model"]["overrides"]["head"] == \
        "multilabel"


def test_check_multilabel_lesson():
    from slowfast_edu.train.lesson_multilabel import check_multilabel_lesson

    results = {"mAP": 0.93, "videos": 120, "views": "2 clips x 1 crops, max", "minutes": 4.2}
    quiet = {"cores": 2, "load_average_before": [0.2, 0.3, 0.3]}
    met, missed = check_multilabel_lesson(results, quiet)
    assert missed == [] and met == ["mAP 93.0% over 120 videos (2 clips x 1 crops, max; goal >= "
                                    "90%)", "4.2 minutes to train and evaluate (goal <= 5 on 2 "
                                    "cores)"]
    met, missed = check_multilabel_lesson({**results, "mAP": 0.89, "minutes": 6.0}, quiet)
    assert len(missed) == 2 and missed[0].startswith("mAP 89.0%")
    loaded = {"cores": 2, "load_average_before": [4.0, 3.0, 3.0]}
    assert "time not judged" in check_multilabel_lesson(results, loaded)[0][1]
