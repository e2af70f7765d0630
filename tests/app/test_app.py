"""The running app through gradio_client on loopback: real clips, bad and odd uploads, load."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from slowfast_edu.app.detection import example_clip
from slowfast_edu.app.menu import DEFAULT_LABEL
from slowfast_edu.app.pictures import CELL, GAP, LABEL_WIDTH, TIME_HEIGHT
from slowfast_edu.app.ui import QUEUE_SIZE

from ..conftest import REPO
from .conftest import SAMPLE

# gradio's run history uses a pandas option that pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

CLASSES = json.loads((SAMPLE.parents[1] / "classnames.json").read_text())
REAL_CLIPS = ["apply_eye_makeup_ucf101.avi", "archery.avi", "arm_wrestling.mp4",
              "basketball_drill_unlabelled.mp4", "cleaning_pool.mp4",
              "cleaning_pool_32frames.mp4", "flipping_pancake.mkv", "yoga.mp4"]
# upload -> words the error must contain (besides the file's name)
BAD_UPLOADS = {
    "empty.mp4": "empty",
    "truncated.mp4": "truncated",
    "text.mp4": "text",
    "png.mp4": "PNG",
    "audio_only.m4a": "audio",
    "random.mp4": "not a video",
}
ODD_UPLOADS = ["one_frame.mp4", "tiny_ffv1.mkv", "tiny_vp9.webm", "4k.mp4", "av1.mp4",
               "vp9.webm", "vfr.mp4", "vfr.mkv", "ten_minutes.mp4"]


def classify(client: Client, path) -> tuple:
    """The app's answer for one video with the default model."""
    return client.predict(handle_file(str(path)), DEFAULT_LABEL, api_name="/classify")


def check_answer(answer: tuple, expected: str | None = None, outside: bool | None = None
                 ) -> dict[str, float]:
    """Asserts the five outputs are well formed (and, unless `outside` is None, whether they say
    the clip is outside the model's world); returns the top-5 {label: confidence}."""
    label, frames, cams, animation, timing = answer
    top5 = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert len(top5) == 5 and set(top5) <= set(CLASSES) and label["label"] == next(iter(top5))
    assert list(top5.values()) == sorted(top5.values(), reverse=True)
    if expected is not None:
        assert label["label"] == expected
    with Image.open(frames) as a, Image.open(cams) as b:  # 16 frames on one timeline
        assert a.size == b.size == (LABEL_WIDTH + 16 * (CELL + GAP), TIME_HEIGHT + 2 * (CELL + GAP))
    assert animation.endswith(".mp4") and "Processing time" in timing
    if outside is not None:
        assert timing.startswith("**Not an answer**") == outside, timing
    return top5


def test_one_classify_endpoint_whose_first_output_is_the_top5_label(client, app):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/classify", "/detect"]  # no flagging, nothing else
    endpoint = api["named_endpoints"]["/classify"]
    assert [p["component"] for p in endpoint["parameters"]] == ["Video", "Dropdown"]
    assert [r["component"] for r in endpoint["returns"]] == [
        "Label", "Image", "Image", "Video", "Markdown"]
    endpoint = api["named_endpoints"]["/detect"]
    assert [p["component"] for p in endpoint["parameters"]] == ["Video", "Textbox", "Number"]
    assert [r["component"] for r in endpoint["returns"]] == ["Image", "Json", "Image", "Markdown"]


def test_hardened_launch_settings(app):
    assert app.local_url.startswith("http://127.0.0.1:")
    assert app.share is False and app.share_url is None
    assert app.allowed_paths == [] and app.analytics_enabled is False
    assert app.max_file_size == 5 * 1024 * 1024
    assert app._queue.max_size == QUEUE_SIZE
    (event,) = [fn for fn in app.fns.values() if fn.name == "classify"]
    assert event.concurrency_limit == 1  # one model: one request on it at a time
    # only what the app itself produced is served: not the system, not the repository
    for path in ("/etc/passwd", REPO / "README.md", SAMPLE, REPO / "slowfast_edu"):
        response = httpx.get(f"{app.local_url}gradio_api/file={path}")
        assert response.status_code == 403 and "File not allowed" in response.text


def test_the_example_clip_is_classified(client):
    check_answer(classify(client, SAMPLE), expected="red_circle_moving_left", outside=False)


@pytest.mark.parametrize("name", REAL_CLIPS)
def test_real_clips_are_answered_as_outside_the_models_world(client, shared_dir, name):
    check_answer(classify(client, shared_dir / "clips" / name), outside=True)


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_a_bad_upload_gets_a_clear_error_and_the_app_keeps_serving(client, make_video, name):
    with pytest.raises(AppError) as error:
        classify(client, make_video(name))
    message = str(error.value)
    assert f"cannot decode '{name}'" in message and BAD_UPLOADS[name] in message
    check_answer(classify(client, SAMPLE), expected="red_circle_moving_left")


def test_no_video_an_unknown_model_and_too_large_uploads_are_refused(client, app, tmp_path):
    with pytest.raises(AppError, match="No video"):
        client.predict(None, DEFAULT_LABEL, api_name="/classify")
    with pytest.raises(AppError, match="nonsense is not in the list of choices"):
        client.predict(handle_file(str(SAMPLE)), "nonsense", api_name="/classify")
    big = tmp_path / "big.mp4"
    big.write_bytes(np.random.default_rng(0).bytes(6 * 1024 * 1024))  # over the 5 MB limit
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        classify(client, big)  # the client checks the limit first ...
    with open(big, "rb") as f:  # ... and so does the server, for any other client
        response = httpx.post(f"{app.local_url}gradio_api/upload", files={"files": f})
    assert response.status_code == 413 and "exceeded maximum allowed size" in response.text
    check_answer(classify(client, SAMPLE))


@pytest.mark.parametrize("name", ODD_UPLOADS)
def test_odd_but_valid_uploads_are_answered(client, make_video, name):
    top5 = check_answer(classify(client, make_video(name)))
    assert sum(top5.values()) <= 1 + 1e-6


def test_twenty_concurrent_clients_are_all_answered(app):
    def one(_: int) -> str:
        client = Client(app.local_url, verbose=False, analytics_enabled=False,
                        download_files=False)
        try:
            return classify(client, SAMPLE)[0]["label"]
        finally:
            client.close()

    with ThreadPoolExecutor(20) as pool:
        labels = list(pool.map(one, range(20)))
    assert labels == ["red_circle_moving_left"] * 20


def detect(client: Client, path, boxes: str = "", box: int = 1) -> tuple:
    """The app's detection answer for one video with the default detector."""
    return client.predict(handle_file(str(path)), boxes, box, api_name="/detect")


def test_detect_scores_the_typed_boxes_of_the_example(client, tmp_path):
    path, truth = example_clip(tmp_path)
    picture, boxes, cams, summary = detect(client, path, truth, 2)
    assert [b["box"] for b in boxes] == [[float(v) for v in line.split(",")]
                                         for line in truth.splitlines()]
    assert [next(iter(b["labels"])) for b in boxes] == [
        "moving_left", "moving_right", "staying_still"]  # its true actions, one of each
    assert all(b["in_domain"] for b in boxes) and "Not an answer" not in summary
    with Image.open(picture) as key, Image.open(cams) as cam:
        assert key.size == (384, 384) and cam.size[0] > cam.size[1]
    assert "Grad-CAM explains" in summary and "of box #2" in summary


def test_detect_refuses_bad_boxes_and_bad_videos_and_keeps_serving(client, make_video, tmp_path):
    path, truth = example_clip(tmp_path)
    with pytest.raises(AppError, match="line 1 .*3 numbers"):
        detect(client, path, "1,2,3")
    with pytest.raises(AppError, match="outside the frame, which is 64 x 64"):
        detect(client, path, "0,0,70,10")
    with pytest.raises(AppError, match="No video"):
        client.predict(None, "", 1, api_name="/detect")
    with pytest.raises(AppError, match="cannot decode 'truncated.mp4'"):
        detect(client, make_video("truncated.mp4"))
    _, boxes, _, summary = detect(client, make_video("ten_minutes.mp4"))  # not its world
    assert boxes[0]["box"] == [0, 0, 48, 40] and boxes[0]["in_domain"] is False
    assert summary.startswith("**Not an answer**") and "the whole frame is one box" in summary
    assert len(detect(client, path, truth)[1]) == 3
