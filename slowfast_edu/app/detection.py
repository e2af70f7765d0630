"""What the app's detection mode does with one upload, in plain Python: read the clip around its
key frame, take the boxes to score, score each box's actions, check each box against the
detector's world, explain one box with Grad-CAM per pathway, and draw the key frame.

    entry = detector_entry()                          # the embedded default detector
    boxes = parse_boxes("10,12,30,34\\n40,8,58,26", (64, 64))   # typed, in the frame's pixels
    result = detect(entry, "clip.mp4", boxes)
    result.boxes         # (K, 4) x1, y1, x2, y2 in pixels of the video's frame
    result.scores        # (K, C) one sigmoid per action (a person may do several at once)
    result.labels(0)     # {"moving_left": 0.97, ...}, best first
    result.key_image     # (H, W, 3) uint8: the key frame, enlarged, each box with its top labels
    result.cam_image     # the frames each pathway saw with the box's Grad-CAM over them
    result.notice        # the plain warning when a box is outside the detector's world

Where the boxes come from: the detector scores boxes, it does not find them (the paper takes
people's boxes from a Faster R-CNN, and scores the actions of each). Here they are typed, one
`x1,y1,x2,y2` per line in pixels of the video's frame (`parse_boxes`, with a clear `BoxError`
for anything else); none typed, the whole frame is one box. For the synthetic set's own clips,
`find_objects` finds the shapes on the key frame (they are bright on a dark background) as a
person detector finds people; the app's example clip comes with its true boxes. A real person
detector (`people.py`) is offered only when its weights are already on the machine.

The key frame is the clip's centre, as in AVA: the clip the detector sees is its view
(`clip_geometry`: 16 frames at 30 fps for the teaching detector) centred on it, resized as it was
tested (the short side to `test_short_side`, the whole frame); the boxes are scaled with it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from torchvision import tv_tensors
from torchvision.transforms import v2

from ..data import pack_pathways
from ..data.synthetic import write_video
from ..data.synthetic_detection import key_frame_boxes, plan_video, render_video
from ..explain import pathway_overlays, slow_positions
from ..explain.box_gradcam import box_grad_cam
from ..models import LoadedModel
from ..models.default import load_default_detector
from ..models.loading import from_network
from ..models.domain import capture_pooled_features, input_statistics
from ..views import read_views
from .menu import AppModel
from .pictures import timeline_grid

DETECTOR_LABEL = "Default detector: slowfast_tiny_detection trained on the synthetic detection set"
MAX_BOXES = 10  # boxes per request
TOP_LABELS = 3  # labels drawn by each box
SHOWN = 384  # the key frame is drawn with its short side at least this many pixels
BOX_COLOURS = ["#ff7f0e", "#17becf", "#e377c2", "#bcbd22", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#1f77b4", "#7f7f7f"]
# find_objects: the synthetic shapes are bright (some channel above ~225), the background dark
# (every channel below ~80): a pixel at least half covered by a shape is above the midpoint
BRIGHT = 140
MIN_AREA = 0.004  # of the frame: smaller bright specks are not objects
FIND_SIDE = 256  # find_objects looks at larger frames at about this many pixels a side
EXAMPLE_SEED = 39  # the example clip: three shapes, one of each action, all three right


class BoxError(ValueError):
    """Typed boxes that cannot be used; the message says which line and why."""


def parse_boxes(text: str | None, size: tuple[int, int], most: int = MAX_BOXES
                ) -> torch.Tensor | None:
    """Boxes typed as `x1,y1,x2,y2` per line (commas or spaces) in pixels of a frame of `size`
    (height, width) -> (K, 4) float; None when nothing is typed (the whole frame)."""
    height, width = size
    lines = [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1)
             if line.strip()]
    if not lines:
        return None
    if len(lines) > most:
        raise BoxError(f"{len(lines)} boxes typed; at most {most} at a time")
    boxes = []
    for n, line in lines:
        parts = [p for p in re.split(r"[,\s;]+", line.strip("()[] ")) if p]
        where = f"line {n} ({line!r})"
        if len(parts) != 4:
            raise BoxError(f"{where}: {len(parts)} number{'s' * (len(parts) != 1)}; a box is 4, "
                           f"x1,y1,x2,y2 (left, top, right, bottom) in pixels of the frame")
        try:
            x1, y1, x2, y2 = (float(p) for p in parts)
        except ValueError:
            raise BoxError(f"{where}: not numbers; a box is x1,y1,x2,y2 in pixels, e.g. "
                           f"10,12,30,34") from None
        if not all(np.isfinite([x1, y1, x2, y2])):
            raise BoxError(f"{where}: the numbers must be finite")
        if x2 <= x1 or y2 <= y1:
            raise BoxError(f"{where}: x2 must be greater than x1 and y2 than y1 (x1,y1 is the "
                           f"top-left corner, x2,y2 the bottom-right; not a width and height)")
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise BoxError(f"{where}: outside the frame, which is {width} x {height} pixels "
                           f"(x from 0 to {width}, y from 0 to {height})")
        boxes.append((x1, y1, x2, y2))
    return torch.tensor(boxes, dtype=torch.float32)


def format_boxes(boxes: torch.Tensor | np.ndarray) -> str:
    """(K, 4) boxes as the lines `parse_boxes` reads, in whole pixels."""
    return "\n".join(",".join(f"{v:g}" for v in np.round(np.asarray(b, float), 1))
                     for b in boxes)


def find_objects(frame: np.ndarray, bright: int = BRIGHT, min_area: float = MIN_AREA
                 ) -> torch.Tensor:
    """The synthetic set's shapes on a frame (H, W, 3) uint8: one tight box (x1, y1, x2, y2) per
    connected bright region, (K, 4) float, left to right. For the synthetic clips only: on any
    other video it finds whatever is bright."""
    full = torch.as_tensor(np.asarray(frame)).amax(dim=2) >= bright  # (H, W)
    step = -(-max(full.shape) // FIND_SIDE)  # a large frame is searched every `step` pixels
    mask = full[::step, ::step]  # (h, w): the loop below takes about max(h, w) rounds at most
    h, w = mask.shape
    # connected components: each pixel takes the largest label of its 8 neighbours, repeatedly
    labels = torch.where(mask, torch.arange(1, h * w + 1, dtype=torch.float32).view(h, w), 0.0)
    while True:
        grown = F.max_pool2d(labels[None, None], 3, stride=1, padding=1)[0, 0] * mask
        if torch.equal(grown, labels):
            break
        labels = grown
    boxes = []
    for label in labels.unique()[1:]:  # 0 is the background
        rows, cols = torch.nonzero(labels == label, as_tuple=True)
        if len(rows) >= min_area * h * w:
            boxes.append((float(cols.min() * step), float(rows.min() * step),
                          float(min((cols.max() + 1) * step, full.shape[1])),
                          float(min((rows.max() + 1) * step, full.shape[0]))))
    return torch.tensor(sorted(boxes), dtype=torch.float32).reshape(-1, 4)


def example_clip(folder: str | os.PathLike, seed: int = EXAMPLE_SEED) -> tuple[Path, str]:
    """A clip of the synthetic detection set written to `folder` (2 s, its key frame at the
    centre, 1 s) and its objects' true boxes at the key frame, typed as `parse_boxes` reads them:
    (path, boxes)."""
    plan = plan_video(seed, num_key_frames=1, size=64)
    path = Path(folder) / f"synthetic_detection_{seed}.mp4"
    write_video(path, render_video(plan))
    boxes = [np.array(box) * plan.size for _, _, box in key_frame_boxes(plan)]
    return path, format_boxes(boxes)


def detector_entry(label: str = DETECTOR_LABEL) -> AppModel:
    """The embedded default detector as a menu entry (loaded on first use)."""
    return AppModel(label, lambda: from_network(load_default_detector(), "default detector"))


@dataclass
class Detection:
    """Everything the detection mode shows for one upload."""

    boxes: torch.Tensor  # (K, 4) x1, y1, x2, y2 in pixels of the video's frame
    scores: torch.Tensor  # (K, C) probabilities, one sigmoid per action
    classnames: list[str]
    whole_frame: bool  # no box was given: the one box is the whole frame
    key_time: float  # seconds into the video of the key frame
    size: tuple[int, int]  # (height, width) of the video's frame
    box_scores: list[float] | None = None  # per box, the domain score (<= 1 inside); None: no check
    world: str = ""
    cam_box: int | None = None  # the box (row) Grad-CAM explains
    cam_action: str | None = None
    key_image: np.ndarray | None = None  # (H', W', 3) uint8
    cam_image: np.ndarray | None = None  # (H'', W'', 3) uint8
    seconds: dict[str, float] = field(default_factory=dict)

    def labels(self, box: int, top: int | None = None) -> dict[str, float]:
        """{action: probability} of row `box`, best first (all of them, or the `top`)."""
        order = self.scores[box].argsort(descending=True)[:top]
        return {self.classnames[int(i)]: float(self.scores[box, i]) for i in order}

    def inside(self, box: int) -> bool | None:
        """Whether box `box` looks like the boxes the detector was trained on (None: unknown)."""
        return None if self.box_scores is None else self.box_scores[box] <= 1

    @property
    def in_domain(self) -> bool | None:
        """Every box inside the detector's world (None: the detector has no check)."""
        return None if self.box_scores is None else all(s <= 1 for s in self.box_scores)

    @property
    def notice(self) -> str | None:
        """The plain warning when some box is outside the detector's world; None otherwise."""
        if self.in_domain is not False:
            return None
        outside = [i + 1 for i in range(len(self.boxes)) if not self.inside(i)]
        which = ("The box is" if len(self.boxes) == 1 else
                 f"Box{'es' * (len(outside) > 1)} {', '.join(f'#{i}' for i in outside)} "
                 f"{'are' if len(outside) > 1 else 'is'}")
        return (f"{which} outside this detector's world: it was trained only on {self.world}; "
                f"its labels mean nothing here (it knows three actions of synthetic shapes, no "
                f"human action).")

    def to_dict(self) -> list[dict]:
        """Per box: its corners, its labels (best first), whether it is in the detector's world."""
        return [{"box": [round(float(v), 2) for v in self.boxes[i]], "labels": self.labels(i),
                 "in_domain": self.inside(i),
                 "domain_score": None if self.box_scores is None else round(self.box_scores[i], 3)}
                for i in range(len(self.boxes))]

    def table(self) -> str:
        """The boxes and their labels as a Markdown table."""
        rows = ["| box | x1, y1, x2, y2 (px) | actions (sigmoid, best first) | in its world |",
                "|---|---|---|---|"]
        for i, b in enumerate(self.boxes):
            labels = ", ".join(f"{name} {p:.0%}" for name, p in self.labels(i).items())
            inside = {None: "not checked", True: "yes", False: "**no: not an answer**"}[
                self.inside(i)]
            rows.append(f"| #{i + 1} | {', '.join(f'{v:g}' for v in b.round().tolist())} | "
                        f"{labels} | {inside} |")
        return "\n".join(rows)

    def summary(self) -> str:
        """Timings, the key frame and the boxes' source as Markdown (led by a warning for boxes
        outside the detector's world)."""
        warning = "**Not an answer** for some boxes: see the notice.\n\n" if self.notice else ""
        steps = " · ".join(f"{k} {s:.2f} s" for k, s in self.seconds.items() if k != "total")
        whole = ("No box was typed: **the whole frame is one box** (type boxes as x1,y1,x2,y2, "
                 "one per line, to score what is in them).\n\n" if self.whole_frame else "")
        cam = (f" Grad-CAM explains *{self.cam_action}* of box #{self.cam_box + 1}."
               if self.cam_box is not None else "")
        return (f"{warning}{whole}**Processing time: {self.seconds.get('total', 0):.2f} s** "
                f"({steps})\n\nKey frame: {self.key_time:.2f} s into the video "
                f"({self.size[1]}x{self.size[0]} px), the centre of the clip the detector saw."
                f"{cam}\n\n{self.table()}")


def detector_inputs(frames: torch.Tensor, boxes: torch.Tensor, loaded: LoadedModel
                    ) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Frames (T, H, W, 3) uint8 and boxes (K, 4) in their pixels -> the detector's inputs
    (per pathway (1, 3, T_p, h, w)) and boxes (K, 5) in pixels of those inputs, as the detector
    was tested (`AvaDataset` in test mode: short side resized, the whole frame, normalised)."""
    h, w = frames.shape[1:3]
    transform = v2.Compose([v2.Resize(loaded.geometry.test_short_side),
                            v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize(loaded.mean, loaded.std)])
    video, scaled = transform(tv_tensors.Video(frames.permute(0, 3, 1, 2)),  # (T, 3, H, W)
                              tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(h, w)))
    clip = video.as_subclass(torch.Tensor).permute(1, 0, 2, 3)[None]  # (1, 3, T, h, w)
    slow, fast = pack_pathways(clip, loaded.geometry.alpha)
    inputs = {"slowfast": [slow, fast], "slow": [slow], "fast": [fast]}[loaded.arch]
    rows = torch.cat([torch.zeros(len(boxes), 1), scaled.as_subclass(torch.Tensor)], dim=1)
    return inputs, rows  # rows: (K, 5) clip index 0, x1, y1, x2, y2


def detect(entry: AppModel, path: str, boxes: torch.Tensor | str | None = None,
           cam_box: int | None = 0, max_seconds: float | None = 10.0) -> Detection:
    """Score the actions of `boxes` (K, 4) in pixels of the video's frame, or typed as
    `parse_boxes` reads them (None or "": the whole frame) on the key frame of `path`; Grad-CAM
    of the top action of row `cam_box` (None: none). Raises `VideoDecodeError` for an
    unreadable upload, `BoxError` for unusable boxes."""
    start = time.perf_counter()
    loaded = entry.get()
    ready = time.perf_counter()
    clip = read_views(path, loaded.geometry, max_seconds=max_seconds, arch=loaded.arch)
    frames = clip.frames[0]  # (T, H, W, 3) uint8, the window around the centre
    middle = frames.shape[0] // 2  # the key frame (AvaDataset's: T/2 frames before it)
    size = (int(frames.shape[1]), int(frames.shape[2]))
    if isinstance(boxes, str) or boxes is None:
        boxes = parse_boxes(boxes, size)
    whole = boxes is None
    if whole:
        boxes = torch.tensor([[0.0, 0.0, size[1], size[0]]])
    if cam_box is not None and not 0 <= cam_box < len(boxes):
        raise BoxError(f"there is no box #{cam_box + 1} to explain: {len(boxes)} "
                       f"box{'es' * (len(boxes) > 1)}")
    inputs, rows = detector_inputs(frames, boxes, loaded)
    read = time.perf_counter()
    network = loaded.inference_network()
    with entry.lock, torch.no_grad(), capture_pooled_features(network) as pooled:
        started = time.perf_counter()
        scores = network.head.probabilities(network(inputs, rows)).float()  # (K, C)
        scored = time.perf_counter()
    box_scores = None
    if loaded.domain is not None:
        stats = {k: v.expand(len(rows)) for k, v in input_statistics(inputs[-1]).items()}
        box_scores = [float(s) for s in loaded.domain.score(pooled[0], stats).score]
    result = Detection(boxes, scores, loaded.classnames, whole, float(clip.times[0][middle]),
                       size, box_scores, loaded.world)
    seconds = {"load": ready - start, "read": read - ready,
               "waiting for the model": started - read, "scores": scored - started}
    if cam_box is not None:
        with entry.lock:
            cams = box_grad_cam(loaded.network, inputs, rows, box=cam_box)
        result.cam_box = cam_box
        result.cam_action = next(iter(result.labels(cam_box)))
        explained = time.perf_counter()
        seconds["Grad-CAM"] = explained - scored
        named = dict(zip(cams, inputs))  # {pathway: (1, 3, T_p, h, w)}
        overlays = pathway_overlays(named, cams)
        finest = max(len(o) for o in overlays.values())
        times = clip.times[0][slow_positions(finest, clip.times.shape[1])]
        result.cam_image = timeline_grid(overlays, times)
    drawn = time.perf_counter()
    result.key_image = draw_boxes(frames[middle].numpy(), result)
    done = time.perf_counter()
    seconds.update({"pictures": done - drawn, "total": done - start})
    result.seconds = {k: s for k, s in seconds.items()
                      if s >= 0.005 or k not in ("load", "waiting for the model")}
    return result


def suggest_boxes(entry: AppModel, path: str, max_seconds: float | None = 10.0,
                  finder: Callable[[np.ndarray], torch.Tensor] = find_objects) -> str:
    """The boxes `finder` (`find_objects`, or a person detector) finds on the key frame of
    `path` (the frame `detect` scores), typed as `parse_boxes` reads them; "" for none."""
    loaded = entry.get()
    clip = read_views(path, loaded.geometry, max_seconds=max_seconds, arch=loaded.arch)
    return format_boxes(finder(clip.frames[0][clip.frames.shape[1] // 2].numpy()))


def draw_boxes(frame: np.ndarray, result: Detection, top: int = TOP_LABELS,
               shown: int = SHOWN) -> np.ndarray:
    """The key frame (H, W, 3) uint8, enlarged to a short side of at least `shown` pixels, with
    each box, its number and its `top` labels with their scores: (H', W', 3) uint8."""
    h, w = frame.shape[:2]
    scale = max(1.0, shown / min(h, w))
    size = (round(w * scale), round(h * scale))
    image = Image.fromarray(frame).resize(size, Image.NEAREST if scale >= 2 else Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    boxes = [[v * scale for v in box] for box in result.boxes.tolist()]
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), outline=BOX_COLOURS[i % len(BOX_COLOURS)],
                       width=3)
    for i, (x1, y1, x2, y2) in enumerate(boxes):  # the labels over every box, never under one
        colour = BOX_COLOURS[i % len(BOX_COLOURS)]
        outside = result.inside(i) is False
        lines = [f"#{i + 1}" + (" (outside its world)" if outside else "")]
        lines += [f"{name} {p:.0%}" for name, p in result.labels(i, top).items()]
        text = "\n".join(lines)
        left, top_, right, bottom = draw.multiline_textbbox((0, 0), text, font=font)
        tw, th = right - left + 6, bottom - top_ + 6
        tx = min(max(x1, 0), size[0] - tw)  # inside the picture, under the box when it fits
        ty = y2 + 2 if y2 + 2 + th <= size[1] else max(y1 - th - 2, 0)
        draw.rectangle((tx, ty, tx + tw, ty + th), fill=colour)
        draw.multiline_text((tx + 3, ty + 3 - top_), text, fill="black", font=font)
    return np.asarray(image)
