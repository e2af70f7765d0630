"""`slowfast-edu explain CLIP --out DIR`: Grad-CAM overlays and the top-5 predictions of one clip.

The clip is read as the model was tested: one centre window of `num_frames` frames every
`sampling_rate` frames at 30 fps, short side resized, centre crop. A checkpoint written by our
trainer says how (its config's data section) and names its classes; for a preset, the tiny ones
take `crop_size` (64) and `alpha * T` frames at stride `tau // alpha`, the R50 ones 256 / 224 and
32 frames at stride 2 (the same formula). Writes into DIR:

    gradcam_grid.png   the overlays of every pathway, aligned in time
    gradcam.gif/.mp4   the pathways side by side, frame by frame
    predictions.json   top-5 classes and probabilities, the target, the frames used
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import VideoDecodeError, VideoReader, pack_pathways, sample_indices, test_transform
from ..models import (PRESETS, CheckpointError, SlowFastConfig, build_model, load_checkpoint,
                      load_weights)
from .gradcam import MODES, grad_cam
from .render import (grid_figure, pathway_overlays, save_gif, save_mp4, side_by_side,
                     slow_positions, upscale)


def add_explain_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `explain` options to `parser` (and `func=run_explain`); returns `parser`."""
    parser.add_argument("clip", help="a video file")
    parser.add_argument("--checkpoint", default=None,
                        help="a checkpoint from `slowfast-edu train` (or a bare state dict, with "
                             "--model for its architecture)")
    parser.add_argument("--model", default=None, choices=list(PRESETS), metavar="NAME",
                        help="a preset (random weights unless --pretrained)")
    parser.add_argument("--pretrained", action="store_true",
                        help="with --model: the published Kinetics-400 weights (downloaded)")
    parser.add_argument("--out", required=True, help="folder for the overlays and the JSON")
    parser.add_argument("--target", default=None,
                        help="class index or name to explain (default: the predicted class)")
    parser.add_argument("--mode", choices=MODES, default="per_frame",
                        help="Grad-CAM weights per time step (PySlowFast) or per clip (captum)")
    parser.add_argument("--cmap", default="jet", help="matplotlib colour map (default: jet)")
    parser.add_argument("--fps", type=float, default=6.0, help="GIF/MP4 playback frame rate")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.set_defaults(func=run_explain)
    return parser


def run_explain(args: argparse.Namespace) -> int:
    """Run `explain`; 0 on success, 2 for an unreadable clip, checkpoint or target."""
    try:
        model, classnames, view, label = load_explain_model(args.checkpoint, args.model,
                                                            args.pretrained)
    except (CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    model = model.to(device)
    try:
        inputs, indices, fps = read_clip(args.clip, model.cfg, view)
    except VideoDecodeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    inputs = [x.to(device) for x in inputs]
    names = classnames or [str(i) for i in range(model.cfg.num_classes)]
    try:
        target = parse_target(args.target, names)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    was_training = model.training
    with torch.no_grad():
        probs = model.eval()(inputs).softmax(dim=-1)[0].cpu()  # (K,)
    model.train(was_training)
    top = probs.topk(min(5, probs.numel()))
    target = int(top.indices[0]) if target is None else target
    cams = grad_cam(model, inputs, target=target, mode=args.mode)  # {p: (1, 1, T, H, W)}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = dict(zip(cams, inputs))
    images = pathway_overlays({k: v.cpu() for k, v in clips.items()},
                              {k: v.cpu() for k, v in cams.items()}, cmap=args.cmap)
    finest = max(len(frames) for frames in images.values())  # the Fast clip's, or the one
    times = indices[slow_positions(finest, len(indices))] / fps  # seconds into the video
    fig = grid_figure(images, times, title=f"{Path(args.clip).name}: Grad-CAM ({args.mode}) "
                                          f"for {names[target]} (p={float(probs[target]):.2f})")
    fig.savefig(out / "gradcam_grid.png", dpi=100)
    frames = side_by_side(images)
    frames = upscale(frames, max(1, -(-256 // frames.shape[1])))  # small clips: at least 256 px
    save_gif(frames, out / "gradcam.gif", args.fps)
    save_mp4(frames, out / "gradcam.mp4", args.fps)
    report = {
        "clip": str(args.clip), "model": label, "mode": args.mode,
        "target": {"index": target, "name": names[target], "probability": float(probs[target])},
        "top5": [{"index": int(i), "name": names[int(i)], "probability": float(p)}
                 for p, i in zip(top.values, top.indices)],
        "frames": indices.tolist(), "fps": fps,
    }
    (out / "predictions.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for row in report["top5"]:
        print(f"{row['probability']:6.3f}  {row['name']}")
    print(f"wrote gradcam_grid.png, gradcam.gif, gradcam.mp4, predictions.json to {out}")
    return 0


def preset_view(cfg: SlowFastConfig) -> dict:
    """How a preset's clips are sampled and cropped at test time."""
    small = cfg.crop_size < 224  # the teaching presets
    return {"num_frames": cfg.fast_frames, "sampling_rate": max(1, cfg.tau // cfg.alpha),
            "target_fps": 30.0, "short_side": cfg.crop_size if small else 256,
            "crop_size": cfg.crop_size if small else 224}


def load_explain_model(checkpoint: str | None, name: str | None, pretrained: bool = False
                       ) -> tuple[nn.Module, list[str] | None, dict, str]:
    """(model, class names or None, view settings, a label) for the command's options."""
    if checkpoint is not None:
        return _from_checkpoint(checkpoint, name)
    if name is not None:
        if pretrained:
            from ..models import load_pretrained

            model = load_pretrained(name)
            return model, list(model.classnames), preset_view(model.cfg), f"{name} (Kinetics-400)"
        print(f"warning: {name} has random weights; the map and predictions mean nothing "
              f"(give --checkpoint or --pretrained)", file=sys.stderr)
        model = build_model(name)
        return model, None, preset_view(model.cfg), f"{name} (random weights)"
    import slowfast_edu

    why = "this version has no default trained model"
    if hasattr(slowfast_edu, "load_default_model"):
        try:
            model = slowfast_edu.load_default_model()
        except FileNotFoundError as e:  # the package was installed without its model file
            why = str(e)
        else:
            classnames = getattr(model, "classnames", None)
            return model, classnames and list(classnames), preset_view(model.cfg), "default model"
    print(f"warning: no --checkpoint or --model, and {why}: using slowfast_tiny with random "
          f"weights; the map and predictions mean nothing", file=sys.stderr)
    model = build_model("slowfast_tiny")
    return model, None, preset_view(model.cfg), "slowfast_tiny (random weights)"


def _from_checkpoint(path: str, name: str | None) -> tuple[nn.Module, list[str] | None, dict, str]:
    state = load_checkpoint(path)  # checks the file and finds the state dict
    saved = torch.load(path, map_location="cpu", weights_only=True)
    saved = saved if isinstance(saved, dict) else {}
    classnames = saved.get("classnames")
    config = saved.get("config") if isinstance(saved.get("config"), dict) else {}
    # a trainer checkpoint keeps the model under config["model"], an exported one under "model"
    section = config.get("model") or (saved.get("model") if isinstance(saved.get("model"), dict)
                                      else {})
    name = name or section.get("name")
    if name is None:
        raise CheckpointError(f"{path} does not say which model it holds (no config); give "
                              f"--model NAME for its architecture")
    overrides = section.get("overrides", {}) if section.get("name") == name else {}
    heads = [v for k, v in state.items() if k.endswith("proj.weight") and v.dim() == 2]
    num_classes = len(classnames) if classnames else (heads[-1].shape[0] if heads else 400)
    model = load_weights(build_model(name, num_classes=num_classes, **overrides), state)
    view = preset_view(model.cfg)
    data = config.get("data", {})
    view.update({key: data[source] for key, source in (
        ("num_frames", "num_frames"), ("sampling_rate", "sampling_rate"),
        ("target_fps", "target_fps"), ("short_side", "test_short_side"),
        ("crop_size", "test_crop_size")) if data.get(source) is not None})
    return model, classnames and list(classnames), view, f"{name} ({Path(path).name})"


def read_clip(path: str, cfg: SlowFastConfig, view: dict
              ) -> tuple[list[torch.Tensor], np.ndarray, float]:
    """The model's inputs (batch of 1), the source frame indices of the sampled clip, the fps."""
    with VideoReader(path) as reader:
        # start = (video - window) * clip_index / num_clips: 1 of 2 is the centre window
        indices = sample_indices(reader.num_frames, reader.fps, view["num_frames"],
                                 view["sampling_rate"], view["target_fps"], clip_index=1,
                                 num_clips=2)
        frames = reader.get_frames(indices)  # (T, H, W, 3) uint8
        fps = reader.fps
    return clip_inputs(frames, cfg, view), indices.numpy(), float(fps)


def clip_inputs(frames: torch.Tensor, cfg: SlowFastConfig, view: dict) -> list[torch.Tensor]:
    """Decoded frames (T, H, W, 3) uint8 to the model's inputs, a batch of 1 per pathway."""
    clip = test_transform(view["short_side"], view["crop_size"], 1)(frames)  # (3, T, h, w)
    slow, fast = pack_pathways(clip[None], cfg.alpha)  # (1, 3, T/alpha, h, w), (1, 3, T, h, w)
    return {"slowfast": [slow, fast], "slow": [slow], "fast": [fast]}[cfg.arch]


def parse_target(target: str | None, names: list[str]) -> int | None:
    """A class index from a number or a class name; None stays None (the predicted class)."""
    if target is None:
        return None
    if target.lstrip("-").isdigit():
        index = int(target)
        if not 0 <= index < len(names):
            raise ValueError(f"--target {index} is not a class index (0..{len(names) - 1})")
        return index
    if target not in names:
        raise ValueError(f"--target {target!r} is not a class name of this model")
    return names.index(target)
