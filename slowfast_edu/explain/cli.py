"""`slowfast-edu explain CLIP --out DIR`: Grad-CAM overlays and the top-5 predictions of one clip.

The model comes from `load_model` (the default, a checkpoint from `slowfast-edu train` or
`export`, or a preset), the clip from `read_views`: one centre window at the model's own test
view (`clip_geometry`, or the view a trainer checkpoint's config names). A model with a domain
check (the default) says when the clip is outside its world: its labels then mean nothing, and
the command prints a notice and writes `in_domain: false` into the JSON. Writes into DIR:

    gradcam_grid.png   the overlays of every pathway, aligned in time
    gradcam.gif/.mp4   the pathways side by side, frame by frame
    predictions.json   top-5 classes and probabilities, the target, the frames used, the domain
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ..data import VideoDecodeError
from ..models import (PRESETS, CheckpointError, LoadedModel, build_model, download_weights,
                      load_model)
from ..models.loading import from_network
from ..predict import out_of_world_notice, score_views
from ..views import read_views
from .gradcam import MODES, grad_cam
from .render import (grid_figure, pathway_overlays, repeat_pixels, save_gif, save_mp4,
                     side_by_side, slow_positions)


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
        loaded = load_explain_model(args.checkpoint, args.model, args.pretrained)
    except (CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    model = loaded.network.to(device)
    try:
        clip = read_views(args.clip, loaded.geometry, arch=loaded.arch, mean=loaded.mean,
                          std=loaded.std)
    except VideoDecodeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    inputs = [x.to(device) for x in clip.inputs]
    names = loaded.classnames
    try:
        target = parse_target(args.target, names)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    was_training = model.training
    probs, score = score_views(loaded, clip, model.eval())  # (K,), the domain score or None
    model.train(was_training)
    in_domain = None if score is None else score <= 1
    top = probs.topk(min(5, probs.numel()))
    target = int(top.indices[0]) if target is None else target
    cams = grad_cam(model, inputs, target=target, mode=args.mode)  # {p: (1, 1, T, H, W)}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = dict(zip(cams, inputs))
    images = pathway_overlays({k: v.cpu() for k, v in clips.items()},
                              {k: v.cpu() for k, v in cams.items()}, cmap=args.cmap)
    indices = clip.indices[0]
    finest = max(len(frames) for frames in images.values())  # the Fast clip's, or the one
    times = indices[slow_positions(finest, len(indices))] / clip.fps  # seconds into the video
    caveat = " (outside the model's world: not an answer)" if in_domain is False else ""
    fig = grid_figure(images, times, title=f"{Path(args.clip).name}: Grad-CAM ({args.mode}) "
                                          f"for {names[target]} (p={float(probs[target]):.2f})"
                                          f"{caveat}")
    fig.savefig(out / "gradcam_grid.png", dpi=100)
    frames = side_by_side(images)
    frames = repeat_pixels(frames, max(1, -(-256 // frames.shape[1])))  # small clips: >= 256 px
    save_gif(frames, out / "gradcam.gif", args.fps)
    save_mp4(frames, out / "gradcam.mp4", args.fps)
    notice = out_of_world_notice(loaded.world) if in_domain is False else None
    report = {
        "clip": str(args.clip), "model": loaded.label, "mode": args.mode,
        "target": {"index": target, "name": names[target], "probability": float(probs[target])},
        "top5": [{"index": int(i), "name": names[int(i)], "probability": float(p)}
                 for p, i in zip(top.values, top.indices)],
        "in_domain": in_domain, "domain_score": score, "notice": notice,
        "frames": indices.tolist(), "fps": clip.fps,
    }
    (out / "predictions.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if notice:
        print(f"{notice}\nNot an answer, the labels this model knows:")
    for row in report["top5"]:
        print(f"{row['probability']:6.3f}  {row['name']}")
    print(f"wrote gradcam_grid.png, gradcam.gif, gradcam.mp4, predictions.json to {out}")
    return 0


def load_explain_model(checkpoint: str | None, name: str | None, pretrained: bool = False
                       ) -> LoadedModel:
    """The model the command's options name (a random-weights preset with a warning)."""
    if checkpoint is not None:
        return load_model(checkpoint, name)
    if name is not None:
        if pretrained:
            download_weights(name)  # nothing to do when they are already in the cache
            return load_model(name)
        print(f"warning: {name} has random weights; the map and predictions mean nothing "
              f"(give --checkpoint or --pretrained)", file=sys.stderr)
        return from_network(build_model(name), f"{name} (random weights)")
    try:
        return load_model(None)
    except FileNotFoundError as e:  # the package was installed without its model file
        print(f"warning: no --checkpoint or --model, and {e}: using slowfast_tiny with random "
              f"weights; the map and predictions mean nothing", file=sys.stderr)
        return from_network(build_model("slowfast_tiny"), "slowfast_tiny (random weights)")


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
