"""An explorer for a notebook: play a clip and watch a pathway's feature maps or its Grad-CAM.

Everything is computed once (`prepare_explorer`: the stage outputs of each pathway and the Grad-CAM
maps), so moving a slider only picks and colours arrays. The picture for one setting of the controls
is `explorer_frame(state, t, pathway, stage, channel, show_gradcam)`, a plain function returning an
(H, W, 3) uint8 image; the widget shows it as a PNG in an `ipywidgets.Image`, so it needs no
matplotlib backend (inline or ipympl alike).

The time slider runs along the finest pathway's frames (the Fast ones in a SlowFast); the Slow
pathway shows its frame nearest in time, as in `render.side_by_side`.

Two more widgets for the first notebooks: `sampling_explorer` (which frames each pathway sees as
T, tau and alpha change, notebook 01) and `cost_calculator` (parameters and GFLOPs as alpha, beta,
the fusion, the depth and T change, notebook 04), over the plain functions of `sampling_view` and
`cost`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .activations import STAGE_NAMES, capture_activations, evaluating, split_inputs
from .gradcam import grad_cam
from .render import frame_times, nearest_frames, overlay, timeline, to_frames

MEAN_OF_CHANNELS = -1  # the channel slider's value for "mean over all channels"


@dataclass
class ExplorerState:
    """What the explorer shows, for one clip; maps are per pathway name ("slow", "fast")."""

    frames: dict[str, np.ndarray]  # (T_p, H, W, 3) uint8
    activations: dict[str, dict[str, torch.Tensor]]  # stage -> (C, T_p', h, w)
    cams: dict[str, np.ndarray]  # (T_p, H, W) in [0, 1]
    positions: dict[str, np.ndarray]  # (T_p,) place of each frame on the timeline
    times: np.ndarray  # (T_timeline,) seconds
    predictions: list[tuple[str, float]]  # top-5 (name, probability)
    cmap: str = "jet"
    alpha: float = 0.5

    @property
    def num_steps(self) -> int:
        """Length of the timeline."""
        return len(self.times)


def prepare_explorer(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
                     stages: Iterable[str] = STAGE_NAMES, target: int | None = None,
                     mode: str = "per_frame", classnames: Sequence[str] | None = None,
                     fps: float = 30.0, sampling_rate: int = 1, cmap: str = "jet",
                     alpha: float = 0.5) -> ExplorerState:
    """Run the model once on the first clip of `inputs`; keep frames, activations, Grad-CAM."""
    clips = {name: clip[:1] for name, clip in split_inputs(model, inputs).items()}  # batch of 1
    first = list(clips.values())
    acts = capture_activations(model, first, stages)
    cams = grad_cam(model, first, target=target, mode=mode)  # {p: (1, 1, T, H, W)}
    with torch.no_grad(), evaluating(model):
        probs = model(first).softmax(dim=-1)[0]  # (K,)
    top = probs.topk(min(5, probs.numel()))
    names = classnames or [str(i) for i in range(probs.numel())]
    frames = {name: to_frames(clip[0]) for name, clip in clips.items()}
    positions = timeline({name: len(f) for name, f in frames.items()})
    steps = max(len(f) for f in frames.values())
    return ExplorerState(
        frames=frames,
        activations={p: {s: a[0] for s, a in stages_.items()} for p, stages_ in acts.items()},
        cams={name: cam[0, 0].numpy() for name, cam in cams.items()},
        positions=positions, times=frame_times(steps, fps, sampling_rate),
        predictions=[(names[i], float(p)) for p, i in zip(top.values, top.indices)],
        cmap=cmap, alpha=alpha)


def frame_at(state: ExplorerState, pathway: str, t: int) -> int:
    """Index of the `pathway` frame shown at timeline step t (the nearest in time)."""
    return int(nearest_frames(state.positions[pathway], state.num_steps)[t])


def channel_map(state: ExplorerState, pathway: str, stage: str, channel: int,
                frame: int) -> np.ndarray:
    """One channel (or the channel mean) of a stage at a pathway frame, scaled to [0, 1] over the
    whole clip and resized to the frame: (H, W)."""
    act = state.activations[pathway][stage]  # (C, T', h, w)
    maps = act.mean(dim=0) if channel == MEAN_OF_CHANNELS else act[channel]  # (T', h, w)
    low, high = maps.min(), maps.max()
    maps = (maps - low) / (high - low) if high > low else torch.zeros_like(maps)
    step = frame * maps.shape[0] // len(state.frames[pathway])  # in case a stage strides in time
    size = state.frames[pathway].shape[1:3]
    picture = F.interpolate(maps[step][None, None], size=size, mode="bilinear",
                            align_corners=False)  # (1, 1, H, W)
    return picture[0, 0].clamp(0, 1).numpy()


def explorer_frame(state: ExplorerState, t: int, pathway: str, stage: str, channel: int,
                   show_gradcam: bool) -> np.ndarray:
    """The explorer's picture at timeline step t: Grad-CAM or a channel over the frame, (H,W,3)."""
    frame = frame_at(state, pathway, t)
    pixels = state.frames[pathway][frame]  # (H, W, 3)
    if show_gradcam:
        heat = state.cams[pathway][frame]  # (H, W)
    else:
        heat = channel_map(state, pathway, stage, channel, frame)
    return overlay(pixels[None], heat[None], state.cmap, state.alpha)[0]


def png_bytes(image: np.ndarray, min_height: int = 256) -> bytes:
    """An (H, W, 3) uint8 image as PNG, enlarged (nearest) to at least `min_height` pixels."""
    from PIL import Image

    factor = max(1, -(-min_height // image.shape[0]))
    image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def explore(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
            classnames: Sequence[str] | None = None, **options):
    """An ipywidgets explorer: Play, time, pathway, stage, channel, Grad-CAM on/off.

    `options` go to `prepare_explorer` (stages, target, mode, fps, sampling_rate, cmap, alpha).
    The returned VBox has `.explorer_state` (an ExplorerState), `.controls` (name -> widget),
    `.image` (the ipywidgets.Image shown) and `.redraw()`, which redraws from the controls.
    """
    import ipywidgets as widgets

    state = prepare_explorer(model, inputs, classnames=classnames, **options)
    pathways = list(state.frames)
    stages = list(state.activations[pathways[0]])
    last = state.num_steps - 1
    controls = {
        "play": widgets.Play(value=0, min=0, max=last, step=1, interval=250, description="Play"),
        "t": widgets.IntSlider(value=0, min=0, max=last, description="time step"),
        "pathway": widgets.Dropdown(options=pathways, value=pathways[-1], description="pathway"),
        "stage": widgets.Dropdown(options=stages, value=stages[-1], description="stage"),
        "channel": widgets.IntSlider(value=MEAN_OF_CHANNELS, min=MEAN_OF_CHANNELS, max=0,
                                     description="channel"),
        "gradcam": widgets.Checkbox(value=True, description="Grad-CAM overlay"),
    }
    widgets.jslink((controls["play"], "value"), (controls["t"], "value"))
    image = widgets.Image(format="png", layout=widgets.Layout(width="320px"))
    caption = widgets.Label()
    top5 = ", ".join(f"{name} {p:.2f}" for name, p in state.predictions)

    def channels() -> int:
        return state.activations[controls["pathway"].value][controls["stage"].value].shape[0]

    def update(_change=None) -> None:
        controls["channel"].max = channels() - 1
        t, pathway = controls["t"].value, controls["pathway"].value
        image.value = png_bytes(explorer_frame(
            state, t, pathway, controls["stage"].value, controls["channel"].value,
            controls["gradcam"].value))
        what = ("Grad-CAM" if controls["gradcam"].value else
                f"{controls['stage'].value} channel "
                f"{'mean' if controls['channel'].value < 0 else controls['channel'].value}")
        caption.value = (f"t = {state.times[t]:.2f} s, {pathway} frame "
                         f"{frame_at(state, pathway, t)}: {what} | top-5: {top5}")

    for name in ("t", "pathway", "stage", "channel", "gradcam"):
        controls[name].observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([controls["play"], controls["t"]]),
                        widgets.HBox([controls["pathway"], controls["stage"], controls["channel"],
                                      controls["gradcam"]]), image, caption])
    box.explorer_state, box.controls, box.image, box.redraw = state, controls, image, update
    return box


def sampling_explorer(frames: np.ndarray | None = None, fps: float = 30.0, T: int = 8,
                      tau: int = 8, alpha: int = 4):
    """Controls for T, tau and alpha over `sampling_view.sampling_figure`: the frames each
    pathway sees, on a time line, with pictures of the Slow ones (`frames`: (N, H, W, 3)).

    The returned VBox has `.controls` (name -> widget), `.image`, `.caption` and `.redraw()`.
    """
    import ipywidgets as widgets

    from .sampling_view import figure_png, sampling_figure

    controls = {
        "T": widgets.IntSlider(value=T, min=1, max=16, description="T"),
        "tau": widgets.Dropdown(options=[1, 2, 4, 8, 16, 32], value=tau, description="tau"),
        "alpha": widgets.Dropdown(options=[1, 2, 4, 8, 16], value=alpha, description="alpha"),
    }
    image = widgets.Image(format="png", layout=widgets.Layout(width="900px"))
    caption = widgets.Label()

    def redraw(_change=None) -> None:
        t, stride, a = (controls[k].value for k in ("T", "tau", "alpha"))
        if stride % a:
            caption.value = (f"tau={stride} is not a multiple of alpha={a}: the Fast stride "
                             f"tau/alpha = {stride / a:g} is not a whole number of frames")
            return
        image.value = figure_png(sampling_figure(t, stride, a, frames, fps))
        caption.value = (f"Slow: {t} frames, one every {stride}; Fast: {a * t} frames, one "
                         f"every {stride // a}; the window: {t * stride} frames "
                         f"({t * stride / fps:.2f} s)")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(list(controls.values())), image, caption])
    box.controls, box.image, box.caption, box.redraw = controls, image, caption, redraw
    return box


def cost_calculator(preset: str = "slowfast_4x16_r50", size: int = 256, diagram: bool = True):
    """Controls for alpha, beta, the fusion, the depth and T over `cost.network_cost`: the
    parameters and GFLOPs per view of the network, split by part, and (`diagram`) its drawing.

    The returned VBox has `.controls`, `.table` (an HTML widget), `.picture` and `.redraw()`.
    """
    import ipywidgets as widgets

    from ..diagram import diagram_image
    from ..models import FUSIONS, get_config
    from .cost import cost_table, network_cost

    base = get_config(preset)
    controls = {
        "alpha": widgets.Dropdown(options=[2, 4, 8, 16], value=base.alpha, description="alpha"),
        "beta_inv": widgets.Dropdown(options=[4, 6, 8, 12, 16, 32], value=base.beta_inv,
                                     description="1/beta"),
        "fusion": widgets.Dropdown(options=list(FUSIONS), value=base.fusion,
                                   description="fusion"),
        "depth": widgets.Dropdown(options=[50, 101], value=base.depth, description="depth",
                                  disabled=base.stage_blocks is not None),
        "slow_frames": widgets.Dropdown(options=[2, 4, 8, 16], value=base.slow_frames,
                                        description="T"),
    }
    table = widgets.HTML()
    picture = widgets.Image(format="png", layout=widgets.Layout(width="900px"))
    reference = network_cost(preset, size)

    def redraw(_change=None) -> None:
        overrides = {k: c.value for k, c in controls.items() if not c.disabled}
        try:
            cost = network_cost(preset, size, **overrides)
        except ValueError as e:  # e.g. time-to-channel sum needs alpha = 1/beta
            table.value = f"<b>This network cannot be built:</b> {e}"
            return
        rows = cost_table(cost).splitlines()
        html = ["<table>"] + [
            "<tr>" + "".join(f"<td style='padding:0 8px'>{cell.strip()}</td>"
                             for cell in row.strip("|").split("|")) + "</tr>"
            for i, row in enumerate(rows) if i != 1] + ["</table>"]
        table.value = (f"<b>{preset}</b> with {overrides}, one {size} x {size} view: "
                       f"{cost['params'] / reference['params']:.2f}x the parameters and "
                       f"{cost['gflops'] / reference['gflops']:.2f}x the GFLOPs of the preset"
                       + "".join(html).replace("**", ""))
        if diagram:
            from PIL import Image

            buffer = io.BytesIO()
            Image.fromarray(diagram_image(preset, size, **overrides)).save(buffer, format="PNG")
            picture.value = buffer.getvalue()

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(list(controls.values())[:3]),
                        widgets.HBox(list(controls.values())[3:]), table] +
                       ([picture] if diagram else []))
    box.controls, box.table, box.picture, box.redraw = controls, table, picture, redraw
    return box
