"""The trainer: the paper's recipe, with checkpoints that make a killed run resume exactly.

One optimizer step = `accumulate` batches of `batch_size` clips on each of the world's processes.
The learning rate follows `schedule.learning_rate` per step. `last.pt` is written at every epoch's
end and every `checkpoint_every` steps, `best.pt` when validation top-1 improves; `metrics.csv`
holds the training log (loss and lr every `log_every` steps, accuracies at each evaluation) and
is rewritten from the checkpoint on resume, so it ends exactly as an uninterrupted run's.
"""

from __future__ import annotations

import csv
import itertools
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import update_bn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.kinetics import KineticsDataset
from ..models import CheckpointError, build_model
from ..models.weights import load_checkpoint, load_pretrained, load_weights
from . import distributed
from .checkpoint import (check_resumable, load_training_checkpoint, rng_state, save_checkpoint,
                         set_rng_state)
from .config import ConfigError, resolve_config
from .datasets import (MissingDataError, class_names, dataset_from_config, datasets_from_config,
                       loader, prepare_data)
from . import detection as det  # the detector's data, loss and mAP (Section 5)
from .loader import ResumableSampler, SeededViews
from .evaluation import evaluate, model_inputs
from .metrics import plot_confusion
from .multilabel import evaluate_multilabel, is_multilabel, top1_hits
from .optim import build_optimizer, scaled_lr
from .plots import plot_curves
from .schedule import learning_rate

__all__ = ["MissingDataError", "NonFiniteLossError", "RunFolderError", "Trainer",
           "build_from_config", "dataset_from_config", "datasets_from_config", "evaluate",
           "model_inputs"]

LOG_EVERY = 10  # steps between training rows in metrics.csv
COLUMNS = ("split", "epoch", "step", "lr", "loss", "top1", "top5")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped, the last good checkpoint is kept."""


class RunFolderError(OSError):
    """The run's folder could not be written (full disk, permissions); `last.pt` is intact."""


def build_from_config(config: dict, num_classes: int, pretrained: bool = True) -> nn.Module:
    """The model section: a preset, its overrides, and (unless `pretrained=False`) the weights
    it starts from; a classifier trained on another number of classes is left out."""
    section = config["model"]
    model = build_model(section["name"], num_classes=num_classes, **section["overrides"])
    source = section["pretrained"] if pretrained else None
    if not source:
        return model
    if source == "kinetics400":  # fine-tuning: everything but the classifier
        state = load_pretrained(det.kinetics_backbone(section["name"])).state_dict()
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
    else:
        state = load_checkpoint(source)  # a clear CheckpointError for anything unreadable
        own = model.state_dict()
        head = [k for k in state if k.startswith("head.") and k in own
                and state[k].shape != own[k].shape]
        if head:
            print(f"note: {source} was trained on {state[head[0]].shape[0]} classes, this data "
                  f"has {num_classes}: its classifier is left out, the rest is loaded")
            state = {k: v for k, v in state.items() if k not in head}
    load_weights(model, state, strict=False)
    return model


class Trainer:
    """Train a SlowFast-family model on a video list with the paper's recipe."""

    def __init__(self, config: dict, out_dir: str | Path, resume: bool = False,
                 device: str | None = None, progress: bool = True,
                 datasets: tuple[KineticsDataset, KineticsDataset | None] | None = None,
                 source: str | Path | None = None) -> None:
        """`datasets`: (train, val) made by `datasets_from_config` for this config, to share
        decoded clips between several trainers (the pathway lesson); default: made here.
        `source`: the config's file, named in messages about missing data.

        Everything that can be checked is checked before a video is decoded: the config and its
        clip geometry, the checkpoint `resume` continues (`check_resumable`), the data files
        (the synthetic set is generated when missing) and the pretrained weights."""
        self.config, self.out = resolve_config(config), Path(out_dir)
        config = self.config
        self.ctx = distributed.setup(device)
        self.progress = progress and self.ctx.is_main
        data, train, optim = config["data"], config["train"], config["optim"]
        if train["threads"]:
            torch.set_num_threads(int(train["threads"]))
        state = self._read_resume() if resume else None
        self.detection = det.is_detection(config)
        if datasets is None:
            if self.ctx.is_main:
                (det.prepare_detection_data if self.detection else prepare_data)(
                    config, self.progress, source=source)
            distributed.barrier(self.ctx)  # the other processes wait for a generated set
            self.classnames = (det.detection_classes(config)[0] if self.detection
                               else class_names(config))
        else:
            self.classnames = datasets[0].classnames
        if state is not None and list(state["classnames"]) != list(self.classnames):
            raise CheckpointError(f"{self.out / 'last.pt'} was trained on other classes than "
                                  f"{data['train']} lists; resume with the data that run used")
        torch.manual_seed(config["seed"])  # the same initial weights on every process
        model = build_from_config(config, len(self.classnames), pretrained=state is None)
        model = model.to(self.ctx.device)
        self.arch = model.cfg.arch
        self.multilabel = is_multilabel(config)  # sigmoid head, BCE, mAP (multilabel.py)
        self.columns = COLUMNS + (("map",) if self.detection else ()) + (
            ("mAP",) if self.multilabel else ())  # detection's frame mAP; multi-label's mAP
        self.train_set, self.val_set = datasets or (
            det.detection_datasets if self.detection else datasets_from_config)(config,
                                                                                self.progress)

        cuda = self.ctx.device.type == "cuda"
        # channels-last on CPU too: oneDNN's 3D convolutions then take the thin Fast pathway's
        # layers off the slow im2col path (benchmarks/cpu_train.py: ~1.4x per training step)
        self.channels_last = bool(train["channels_last"])
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last_3d)
        amp_dtype = None
        if cuda and train["amp"] in ("auto", "bf16", "fp16", True):
            bf16 = train["amp"] in ("auto", "bf16", True) and torch.cuda.is_bf16_supported()
            amp_dtype = torch.bfloat16 if bf16 else torch.float16
        self.autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if amp_dtype \
            else nullcontext
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        if train["sync_bn"] and self.ctx.world_size > 1:
            if not cuda:
                raise ConfigError("train.sync_bn needs GPUs (PyTorch's SyncBatchNorm is CUDA-only)")
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model = model
        self.forward_model = (DistributedDataParallel(model, device_ids=[self.ctx.device]
                                                      if cuda else None)
                              if self.ctx.world_size > 1 else model)
        if train["compile"]:
            self.forward_model = torch.compile(self.forward_model)

        self.batch_size, self.accumulate = train["batch_size"], train["accumulate"]
        global_batch = self.batch_size * self.accumulate * self.ctx.world_size
        self.peak_lr = scaled_lr(optim["base_lr"], global_batch, optim["reference_batch"])
        self.optimizer = build_optimizer(model, self.peak_lr, optim["momentum"],
                                         optim["nesterov"], optim["weight_decay"])
        self.sampler = ResumableSampler(len(self.train_set), config["seed"], True, self.ctx.rank,
                                        self.ctx.world_size, self.batch_size)
        self.batches_per_epoch = len(self.sampler) // self.batch_size
        self.steps_per_epoch = max(self.batches_per_epoch // self.accumulate, 1)

        self.epoch, self.batch_in_epoch, self.step, self.best_top1 = 0, 0, 0, -1.0
        self.rows: list[dict] = []
        self.sums = [0.0, 0.0, 0.0]  # loss, correct, clips since the last training row
        self.saved_step: int | None = None  # the step last.pt holds
        if state is not None:
            self._resume(state)

    # --- data -------------------------------------------------------------------------------
    def _loader(self, dataset, sampler=None, batch_size=None) -> DataLoader:
        return loader(SeededViews(dataset, self.config["seed"]), self.config["data"],
                      batch_size or self.batch_size, sampler=sampler,
                      pin_memory=self.ctx.device.type == "cuda", persistent_workers=False,
                      drop_last=False, collate_fn=det.ava_collate if self.detection else None,
                      generator=torch.Generator().manual_seed(self.config["seed"]))

    # --- checkpoints ------------------------------------------------------------------------
    def _state(self) -> dict:
        return {"model_state": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict(), "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch, "step": self.step,
                "best_top1": self.best_top1, "rows": self.rows, "sums": self.sums,
                "rng": rng_state(), "config": self.config, "classnames": self.classnames}

    def _save(self, name: str = "last.pt") -> None:
        if self.ctx.is_main:
            with self._writing(self.out / name):
                save_checkpoint(self.out / name, self._state())
            if name == "last.pt":
                self.saved_step = self.step

    @contextmanager
    def _writing(self, path: Path):
        """Turn a failed write into a `RunFolderError` that says what is intact."""
        try:
            yield
        except OSError as e:
            last = self.out / "last.pt"
            kept = (f"{last} (step {self.saved_step}) is intact: fix the folder and continue with "
                    f"--resume" if self.saved_step is not None and last.exists()
                    else "no checkpoint was written yet: fix the folder and start again")
            raise RunFolderError(f"cannot write {path} ({e.strerror or e}): training stopped at "
                                 f"step {self.step}; {kept}") from None

    def _read_resume(self) -> dict:
        """The checkpoint to continue from, checked before anything is decoded or built."""
        path = self.out / "last.pt"
        if not path.exists():
            raise MissingDataError(f"--resume: there is no {path} to resume from (a run writes "
                                   f"it at the end of every epoch and every "
                                   f"train.checkpoint_every steps); train without --resume")
        state = load_training_checkpoint(path)
        check_resumable(state, path, self.config)
        return state

    def _resume(self, state: dict) -> None:
        self.model.load_state_dict(state["model_state"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.batch_in_epoch = state["epoch"], state["batch_in_epoch"]
        self.step, self.best_top1 = state["step"], state["best_top1"]
        self.rows, self.sums = list(state["rows"]), list(state["sums"])
        self.saved_step = self.step
        set_rng_state(state["rng"])
        self._write_metrics()

    def _write_metrics(self) -> None:
        if not self.ctx.is_main:
            return
        tmp = self.out / ".metrics.csv.tmp"
        with self._writing(self.out / "metrics.csv"):
            self.out.mkdir(parents=True, exist_ok=True)
            try:
                with open(tmp, "w", newline="") as f:
                    writer = csv.DictWriter(f, self.columns)
                    writer.writeheader()
                    writer.writerows(self.rows)
                tmp.replace(self.out / "metrics.csv")
            finally:
                tmp.unlink(missing_ok=True)

    # --- training ---------------------------------------------------------------------------
    def fit(self) -> dict:
        """Train until `train.epochs` (or `train.max_steps`); returns the final results."""
        train = self.config["train"]
        start = time.perf_counter()
        results: dict = {}
        while self.epoch < train["epochs"]:
            finished = self._train_epoch()
            if not finished:  # max_steps reached mid-epoch
                break
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0
            skipped = self.train_set.pop_skipped()
            if skipped and self.ctx.is_main:
                print(f"epoch {self.epoch}: skipped {len(skipped)} unreadable video(s): "
                      + "; ".join(f"{p} ({why})" for p, why in list(skipped.items())[:5]))
            if self.val_set is not None and (self.epoch % train["eval_every"] == 0
                                             or self.epoch == train["epochs"]):
                results = self._validate()
            self._save()
            distributed.barrier(self.ctx)
        if self.ctx.is_main:
            self._save()
            with self._writing(self.out / "curves.png"):
                plot_curves(self.rows, self.out / "curves.png")
        results.update(steps=self.step, epochs=self.epoch,
                       minutes=(time.perf_counter() - start) / 60)
        return results

    def _train_epoch(self) -> bool:
        """One epoch from where it stands; False if `max_steps` stopped it early."""
        train, optim = self.config["train"], self.config["optim"]
        self.sampler.set_epoch(self.epoch, skip=self.batch_in_epoch * self.batch_size)
        loader = self._loader(self.train_set, self.sampler)
        self.forward_model.train()
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{train['epochs']}",
                   initial=self.batch_in_epoch, total=self.batches_per_epoch,
                   disable=not self.progress)
        for inputs, *boxes, labels, _ in bar:  # detection: boxes (K, 5), labels (K, C)
            if self.batch_in_epoch >= self.steps_per_epoch * self.accumulate:
                break  # the incomplete last accumulation group of the epoch is dropped
            labels = labels.to(self.ctx.device)
            last_of_step = (self.batch_in_epoch + 1) % self.accumulate == 0
            sync = last_of_step or self.ctx.world_size == 1
            with (nullcontext() if sync else self.forward_model.no_sync()), self.autocast():
                logits = self.forward_model(model_inputs(inputs, self.arch, self.ctx.device,
                                                         self.channels_last),
                                            *[b.to(self.ctx.device) for b in boxes])
                loss = (det.detection_loss if self.detection  # else the head's own
                        else self.model.head.loss)(logits.float(), labels)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"the loss became {loss.item()} at epoch {self.epoch + 1}, step "
                    f"{self.step + 1}; training stopped and {self.out / 'last.pt'} "
                    f"still holds the last good state. Lower optim.base_lr, or check the data.")
            self.scaler.scale(loss / self.accumulate).backward()
            self.sums = [a + b for a, b in zip(self.sums, [
                loss.item() * len(labels), det.box_top1_correct(logits, labels) if self.detection
                else top1_hits(logits, labels), len(labels)])]
            self.batch_in_epoch += 1
            if not last_of_step:
                continue
            # the rate of this optimizer step: the same for any batch / accumulation / world split
            step_in_epoch = self.batch_in_epoch // self.accumulate - 1
            steps = sorted((optim["lr_steps"] or {}).items())  # [(epoch, factor)], or cosine
            lr = learning_rate(self.epoch + step_in_epoch / self.steps_per_epoch,
                               train["epochs"], self.peak_lr, optim["warmup_epochs"],
                               optim["warmup_start_factor"], optim["final_lr_factor"],
                               steps=[e for e, _ in steps] or None,
                               relative_lrs=[f for _, f in steps] or None)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            if self.step % LOG_EVERY == 0:
                self._log_train(lr)
                bar.set_postfix(loss=f"{self.rows[-1]['loss']:.3f}", lr=f"{lr:.3g}")
            if train["checkpoint_every"] and self.step % train["checkpoint_every"] == 0:
                self._save()
            if train["max_steps"] and self.step >= train["max_steps"]:
                self._save()
                return False
        return True

    def _log_train(self, lr: float) -> None:
        loss, correct, seen = distributed.all_reduce_sum(self.sums, self.ctx)
        self.rows.append({"split": "train", "epoch": self.epoch + 1, "step": self.step,
                          "lr": round(lr, 8), "loss": round(loss / max(seen, 1), 6),
                          "top1": round(correct / max(seen, 1), 6), "top5": ""})
        self.sums = [0.0, 0.0, 0.0]
        self._write_metrics()

    def _validate(self) -> dict:
        """Precise BN (if asked), then single-view validation on rank 0; best.pt on improvement."""
        results: dict = {}
        if self.ctx.is_main:
            n = self.config["train"]["precise_bn_batches"]
            if n:
                self.precise_bn(n)
            if self.detection:
                results = self._validate_detection()
                distributed.barrier(self.ctx)
                return results
            loader = self._loader(self.val_set)
            if self.multilabel:
                return self._validate_multilabel(loader)
            results = evaluate(self.model, loader, len(self.classnames), self.ctx.device,
                               self.autocast, self.channels_last, self.progress)
            self.rows.append({"split": "val", "epoch": self.epoch, "step": self.step, "lr": "",
                              "loss": "", "top1": round(results["top1"], 6),
                              "top5": round(results["top5"], 6)})
            self._write_metrics()
            if results["top1"] > self.best_top1:
                self.best_top1 = results["top1"]
                self._save("best.pt")
            with self._writing(self.out / "confusion.png"):
                plot_confusion(results["confusion"], self.classnames, self.out / "confusion.png")
            results = {"val_top1": results["top1"], "val_top5": results["top5"],
                       "per_class": results["per_class"]}
        distributed.barrier(self.ctx)
        return results

    def _validate_multilabel(self, loader: DataLoader) -> dict:
        """mAP (max over views); best.pt when it improves (`best_top1` holds the best mAP)."""
        results = evaluate_multilabel(self.model, loader, len(self.classnames), self.ctx.device,
                                      self.autocast, self.channels_last, self.progress)
        self.rows.append({"split": "val", "epoch": self.epoch, "step": self.step, "lr": "",
                          "loss": "", "top1": round(results["top1"], 6), "top5": "",
                          "mAP": round(results["mAP"], 6)})
        self._write_metrics()
        if results["mAP"] > self.best_top1:
            self.best_top1 = results["mAP"]
            self._save("best.pt")
        distributed.barrier(self.ctx)
        return {"val_mAP": results["mAP"], "val_top1": results["top1"],
                "per_class_ap": results["per_class_ap"]}

    def _validate_detection(self) -> dict:
        """Frame mAP at IoU 0.5 on the val key frames; best.pt when it improves."""
        _, class_ids = det.detection_classes(self.config)
        results = det.evaluate_detection(
            self.model, self._loader(self.val_set), self.val_set,
            det.ground_truth(self.config, self.val_set), class_ids, self.ctx.device,
            self.autocast, self.channels_last, self.progress)
        top1 = results["top1"]
        self.rows.append({"split": "val", "epoch": self.epoch, "step": self.step, "lr": "",
                          "loss": "", "top1": "" if top1 is None else round(top1, 6),
                          "top5": "", "map": round(results["map"], 6)})
        self._write_metrics()
        if results["map"] > self.best_top1:  # for a detector, the best frame mAP
            self.best_top1 = results["map"]
            self._save("best.pt")
        return {"val_map": results["map"], "val_top1": top1,
                "per_class_ap": {self.classnames[c - 1]: ap
                                 for c, ap in results["per_class"].items()}}

    def precise_bn(self, num_batches: int) -> None:
        """Recompute every BN's statistics as a true average over `num_batches` training batches
        (the running averages lag behind the weights at the end of training)."""
        sampler = ResumableSampler(len(self.train_set), self.config["seed"] + 7919)
        sampler.set_epoch(self.epoch)
        loader = self._loader(self.train_set, sampler)
        batches = ((model_inputs(inputs, self.arch, self.ctx.device, self.channels_last),)
                   for inputs, *_ in itertools.islice(loader, num_batches))
        with self.autocast():
            update_bn(batches, self.model)
