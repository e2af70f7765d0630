"""The Gradio page: upload a clip, pick a model, see the top-5 and where each pathway looked.

Two tabs. **Classify**: one event, `classify(video, model)`, served at `/classify`; its outputs
are the top-5 (a `gr.Label`, first), the frames each pathway saw, their Grad-CAM over time (a
picture and an MP4) and the processing time. **Detect** (when the default detector is installed,
`make default-detector`): `detect(video, boxes, box)`, served at `/detect`, scores the actions of
typed boxes (`x1,y1,x2,y2` per line; none: the whole frame) on the clip's key frame, its centre;
its outputs are the key frame with each box and its top labels, the boxes' labels as JSON, the
Grad-CAM of box `box` per pathway and a summary (`detection.py` does the work). Every problem
with an upload (or with typed boxes) comes back as a `gr.Error` that says what is wrong, and the
app goes on serving.

A clip outside the model's world (its domain check, `models/domain.py`) gets a plain notice above
the labels (what the model was trained on, that its labels mean nothing here, the command that
gets the Kinetics-400 model), and the labels lose their big "answer" heading and are titled "not
an answer". The notice is drawn by a second step chained to the event (from a `gr.State`, which
the API leaves out), so `/classify` keeps its five outputs; its Markdown output starts with "Not
an answer" for such a clip. The detector's check is per box (`calibrate_detection.py`): a box
whose pooled features are unlike its training boxes' (those of a real video, for one) is marked
"outside its world" on the picture, "in_domain": false in the JSON, and the notice says so.

Hardening (see `launch`): loopback only unless told otherwise, no share link, uploads of at most
`MAX_FILE_SIZE`, a queue of at most `QUEUE_SIZE` waiting requests, one request at a time per model
(its lock, in `menu.py`), at most `MAX_SECONDS` of a video read, no flagging (a `gr.Blocks` app
has none), no `allowed_paths`, no analytics, nothing fetched from the internet at start-up.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported
import gradio as gr  # noqa: E402

from ..data import VideoDecodeError  # noqa: E402
from .analysis import MAX_SECONDS, analyse  # noqa: E402
from .detection import (MAX_BOXES, BoxError, detector_entry, example_clip,  # noqa: E402
                        suggest_boxes)
from .detection import detect as detect_boxes  # noqa: E402
from .menu import AppModel, available_models, missing_weights_note  # noqa: E402
from .people import cached_person_detector, missing_note  # noqa: E402
from ..models.default import DEFAULT_DETECTOR  # noqa: E402
from .preview import browser_plays, make_preview  # noqa: E402

log = logging.getLogger(__name__)

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"  # in a source checkout only
MAX_FILE_SIZE = "100mb"
QUEUE_SIZE = 32  # requests waiting beyond this are turned away ("the queue is full")
# what the upload button takes besides video/*: everything the reader decodes, GIF included
ANY_VIDEO = ["video", ".gif", ".avi", ".mkv", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".ogv",
             ".3gp", ".m4v", ".mov", ".webm", ".mp4"]
KEEP_OUTPUTS = 600.0  # seconds an animation stays in our folder (gradio has copied it by then)
NOT_AN_ANSWER = "Not an answer: the labels this model knows (meaningless for this clip)"

INTRO = f"""# SlowFast: what each pathway saw
Upload a short video (or record one, or pick an example). The **Slow** pathway sees a few frames
in full detail, the **Fast** pathway every frame in thin channels (Feichtenhofer et al., 2019).
Grad-CAM shows where each pathway found the evidence for the top class, frame by frame.
Long videos are read over the {MAX_SECONDS:.0f} seconds around their centre."""


DETECT_INTRO = f"""### Action detection (the paper's Section 5)
The detector scores **boxes**: for each box on the clip's key frame (its centre), which actions
the thing in it is doing, one yes/no score (a sigmoid) per action. It does not find the boxes:
type them, one `x1,y1,x2,y2` per line in pixels of the video's frame (at most {MAX_BOXES}; none:
the whole frame is one box), or for a clip of the synthetic set press *Find the shapes* (or
*Find people*, when a person detector's weights are on this machine).

**The default detector knows only synthetic clips**: coloured shapes on a dark background, each
moving left, moving right or staying still (`slowfast_tiny_detection`, trained in a few
minutes on a CPU). It knows no human action: a box whose features are unlike those of its
training boxes (a real video's, for one) is marked *outside its world*, and its labels are not
an answer."""


def example_clips(folder: Path = SAMPLES) -> list[str]:
    """One validation clip per class of `data_samples/`, when the folder exists."""
    clips: dict[str, str] = {}
    for line in (folder / "val.csv").read_text().splitlines() if folder.is_dir() else []:
        path, label = line.split()
        clips.setdefault(label, str(folder / path))
    return [clips[label] for label in sorted(clips, key=int)]


class OutputFolder:
    """A private temporary folder for the animations, pruned as requests come, removed at exit."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="slowfast_edu_app_"))
        atexit.register(shutil.rmtree, self.path, ignore_errors=True)

    def prune(self, keep: float = KEEP_OUTPUTS) -> None:
        """Delete the files older than `keep` seconds."""
        now = time.time()
        for file in self.path.iterdir():
            try:
                if now - file.stat().st_mtime > keep:
                    file.unlink()
            except FileNotFoundError:  # another request pruned it first
                pass


def uploaded(video: str | None, originals: dict | None = None) -> str:
    """The file the model reads for the Detect tab's video: the upload behind a preview."""
    if not video:
        raise gr.Error("No video: upload a clip or pick the example first.",
                       print_exception=False)
    return (originals or {}).get(Path(video).name, video)


def refused(error: Exception, video: str, doing: str = "process") -> gr.Error:
    """The message an upload's failure becomes (logged; the app goes on serving): an unreadable
    video or unusable boxes say so, anything else names the file and the error."""
    if isinstance(error, VideoDecodeError):
        log.warning("rejected an upload: %s", error)
        return gr.Error(str(error), title="Cannot read this video", print_exception=False)
    if isinstance(error, BoxError):
        return gr.Error(str(error), title="Cannot use these boxes", print_exception=False)
    log.exception("failed to %s %s", doing, Path(video).name)
    return gr.Error(f"Could not {doing} {Path(video).name!r}: {type(error).__name__}: {error}",
                    print_exception=False)


def build_demo(checkpoint: str | None = None, model: str | None = None,
               models: dict[str, AppModel] | None = None, samples: Path = SAMPLES,
               max_seconds: float = MAX_SECONDS, detector: AppModel | None = None
               ) -> gr.Blocks:
    """The app's `gr.Blocks` (queue configured); `models` defaults to `available_models`,
    `detector` to the embedded default detector (no Detect tab when it is not installed)."""
    models = models if models is not None else available_models(checkpoint, model)
    if detector is None and DEFAULT_DETECTOR.is_file():
        detector = detector_entry()
    people = cached_person_detector()  # None unless its weights are in the torch cache
    outputs = OutputFolder()

    def classify(video: str | None, model_name: str, originals: dict | None = None) -> tuple:
        """Top-5, the frames each pathway saw, Grad-CAM over time (picture, MP4), timings."""
        if not video:
            raise gr.Error("No video: upload a clip, record one, or pick an example first.",
                           print_exception=False)
        video = (originals or {}).get(Path(video).name, video)  # a preview: read the upload
        entry = models[model_name]  # the dropdown has refused any other name
        try:
            entry.get()
        except Exception as e:  # a checkpoint that vanished or broke since start-up
            log.exception("cannot load %s", model_name)
            raise gr.Error(f"Cannot load the model {model_name!r}: {e}",
                           print_exception=False) from None
        outputs.prune()
        try:
            result = analyse(entry, video, outputs.path, max_seconds)
        except Exception as e:  # never let one upload take the app down
            raise refused(e, video) from None
        return (result.top5, result.frames_image, result.cam_image, str(result.animation),
                result.summary(), result.notice)

    def detect(video: str | None, boxes: str | None, box: float | None = 1,
               originals: dict | None = None) -> tuple:
        """The key frame with each box's top labels, the labels as JSON, the Grad-CAM of box
        #`box` per pathway, a summary."""
        video = uploaded(video, originals)
        try:
            detector.get()
        except Exception as e:  # the asset vanished or broke since start-up
            log.exception("cannot load the detector")
            raise gr.Error(f"Cannot load the detector: {e}", print_exception=False) from None
        try:
            result = detect_boxes(detector, video, boxes, cam_box=int(box or 1) - 1,
                                  max_seconds=max_seconds)
        except Exception as e:  # never let one upload take the app down
            raise refused(e, video) from None
        return (result.key_image, result.to_dict(), result.cam_image, result.summary(),
                result.notice)

    def find_boxes(video: str | None, originals: dict | None = None, finder=None) -> str:
        """The synthetic shapes (or with `finder`, the people) on the key frame, as boxes."""
        video = uploaded(video, originals)
        try:
            found = suggest_boxes(detector, video, max_seconds, **(
                {"finder": finder} if finder else {}))
        except Exception as e:  # also a person detector's weights that vanished or broke
            raise refused(e, video, "find boxes on") from None
        if not found:
            gr.Warning("Nothing found on the key frame: type the boxes yourself.")
        return found

    def show_detect_notice(notice: str | None) -> dict:
        if notice:
            return gr.update(value=f"### ⚠ Not an answer\n{notice}", visible=True)
        return gr.update(value="", visible=False)

    def show_notice(notice: str | None) -> tuple:
        """For a clip outside the model's world, the notice above the labels, and the labels
        without their "answer" heading, titled as what they are; for any other, neither."""
        if notice:
            return (gr.update(value=f"### ⚠ Not an answer\n{notice}", visible=True),
                    gr.update(label=NOT_AN_ANSWER, show_heading=False))
        return gr.update(value="", visible=False), gr.update(label="Top-5", show_heading=True)

    def preview(upload: str | None, originals: dict, always: bool = False) -> tuple:
        """Show an upload the browser cannot play (AVI, MKV, GIF, ...) as an H.264 preview;
        `originals` maps each preview's name to the upload, which the model reads."""
        if not upload or (browser_plays(upload) and not always):
            return gr.skip(), originals
        if browser_plays(upload):  # from the upload button: show it as it is
            return upload, originals
        outputs.prune()
        try:
            shown = make_preview(upload, outputs.path)
        except VideoDecodeError as e:
            raise gr.Error(str(e), title="Cannot read this video", print_exception=False) from None
        return str(shown), {**originals, shown.name: upload}

    def classify_tab() -> None:
        """The upload, the model menu, the top-5 and the pictures, wired to `classify`."""
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                video = gr.Video(sources=["upload", "webcam"], label="Video clip", height=280)
                other = gr.UploadButton("Or upload any video file: GIF, AVI, MKV, MPEG, ...",
                                        file_types=ANY_VIDEO, size="sm")
                originals = gr.State({})  # preview file name -> the upload it shows
                choice = gr.Dropdown(list(models), value=next(iter(models)), label="Model",
                                     info=missing_weights_note())
                button = gr.Button("Classify", variant="primary")
                clips = example_clips(samples)
                if clips:
                    gr.Examples([[c] for c in clips], inputs=[video],
                                label="Examples from the synthetic motion set (data_samples/)")
            with gr.Column():
                notice = gr.Markdown(visible=False, elem_id="out-of-world-notice")
                top5 = gr.Label(num_top_classes=5, label="Top-5")
                timing = gr.Markdown(label="Processing time")
                animation = gr.Video(label="Grad-CAM over time: Slow | Fast", autoplay=True,
                                     loop=True, interactive=False, height=240)
        # headings above the pictures: a component's own label would cover their corner
        gr.Markdown("**The frames each pathway saw** (seconds into the video below each)")
        frames = gr.Image(label="Frames", show_label=False, format="png", interactive=False,
                          buttons=["download"])
        gr.Markdown("**Grad-CAM of the top class over time, per pathway**")
        cams = gr.Image(label="Grad-CAM", show_label=False, format="png", interactive=False,
                        buttons=["download"])
        notice_text = gr.State(None)
        button.click(classify, [video, choice, originals],
                     [top5, frames, cams, animation, timing, notice_text],
                     concurrency_limit=len(models), concurrency_id="models",
                     ).then(show_notice, notice_text, [notice, top5], queue=False,
                            api_visibility="private")
        video.upload(preview, [video, originals], [video, originals], api_visibility="private")
        other.upload(lambda upload, known: preview(upload, known, always=True),
                     [other, originals], [video, originals], api_visibility="private")

    def detect_tab() -> None:
        """The upload, the boxes, the key frame with their labels, wired to `detect`."""
        gr.Markdown(DETECT_INTRO)
        with gr.Row():
            with gr.Column():
                video = gr.Video(sources=["upload"], label="Video clip", height=280)
                originals = gr.State({})
                boxes = gr.Textbox(label="Boxes: x1,y1,x2,y2 per line, in pixels of the frame",
                                   lines=4, max_lines=MAX_BOXES,
                                   placeholder="e.g. 10,12,30,34\nEmpty: the whole frame is "
                                               "one box")
                with gr.Row():
                    find = gr.Button("Find the shapes (synthetic clips)", size="sm")
                    find_people = gr.Button(f"Find people: {people.label}" if people else "",
                                            size="sm", visible=people is not None)
                    box = gr.Number(1, label="Grad-CAM for box #", precision=0, minimum=1,
                                    maximum=MAX_BOXES)
                if people is None:
                    gr.Markdown(missing_note(), elem_id="people-note")
                button = gr.Button("Detect", variant="primary")
                clip, truth = example_clip(OutputFolder().path)  # removed at exit
                gr.Examples([[str(clip), truth]], inputs=[video, boxes],
                            label="Example: a clip of the synthetic detection set, with its "
                                  "true boxes")
            with gr.Column():
                notice = gr.Markdown(visible=False, elem_id="detect-notice")
                key = gr.Image(label="Key frame: each box with its top actions", format="png",
                               interactive=False, buttons=["download"])
        summary = gr.Markdown()
        with gr.Accordion("Per box as JSON: its corners, actions, whether it is in the "
                          "detector's world (what /detect returns)", open=False):
            labels = gr.JSON(show_label=False)
        gr.Markdown("**Grad-CAM of the chosen box's top action, per pathway**")
        cams = gr.Image(label="Grad-CAM", show_label=False, format="png", interactive=False,
                        buttons=["download"])
        notice_text = gr.State(None)
        button.click(detect, [video, boxes, box, originals],
                     [key, labels, cams, summary, notice_text],
                     concurrency_limit=1, concurrency_id="detector",
                     ).then(show_detect_notice, notice_text, notice, queue=False,
                            api_visibility="private")
        find.click(find_boxes, [video, originals], boxes, concurrency_limit=1,
                   concurrency_id="detector", api_visibility="private")
        def find_people_boxes(upload: str | None, known: dict) -> str:
            return find_boxes(upload, known, people)

        find_people.click(find_people_boxes, [video, originals], boxes, concurrency_limit=1,
                          concurrency_id="detector", api_visibility="private")
        video.upload(preview, [video, originals], [video, originals], api_visibility="private")

    with gr.Blocks(title="SlowFast: what each pathway saw", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:  # gradio's copies: gone after an hour
        with gr.Tabs():
            with gr.Tab("Classify", id="classify"):
                classify_tab()
            if detector is not None:
                with gr.Tab("Detect", id="detect", elem_id="detect-tab"):
                    detect_tab()
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def launch(host: str = "127.0.0.1", port: int | None = 7860, checkpoint: str | None = None,
           model: str | None = None, *, demo: gr.Blocks | None = None,
           max_file_size: str | int = MAX_FILE_SIZE, prevent_thread_lock: bool = False,
           quiet: bool = False) -> gr.Blocks:
    """Serve the app at http://host:port (blocks unless `prevent_thread_lock`); returns it."""
    demo = demo if demo is not None else build_demo(checkpoint, model)
    # gradio's own launch log is quiet: it would advise `share=True`, which the app never does
    demo.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                max_file_size=max_file_size, prevent_thread_lock=True, quiet=True,
                show_error=False, ssr_mode=False, mcp_server=False,
                enable_monitoring=False, pwa=False, allowed_paths=None)
    if not quiet:
        reach = ("this machine only" if host in ("127.0.0.1", "localhost", "::1")
                 else f"listening on {host}: other machines can reach it")
        print(f"The app is at {demo.local_url} ({reach}; Ctrl+C stops it)", flush=True)
    if not prevent_thread_lock:
        demo.block_thread()
    return demo
