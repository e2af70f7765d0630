"""Uploads the browser cannot play (AVI, MKV, GIF, MPEG, 4:4:4 H.264) are shown through a small
H.264 preview of the part the model reads, while the model reads the upload itself; the upload
button takes every kind of file the reader decodes, GIF included."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from slowfast_edu.app.preview import MAX_SIDE, browser_plays, make_preview
from slowfast_edu.data import VideoDecodeError, VideoReader

from ..data.conftest import index_image, read_index, write_video
from .conftest import SAMPLE

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


def write_gif(path: Path, frames: int = 12, size: int = 48) -> Path:
    """An animated GIF of index frames, 25 frames a second."""
    images = [Image.fromarray(index_image(i, size, size, bands=2)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return path


def stream_of(path: Path) -> tuple[str, str, int, int, int]:
    """(codec, pixel format, width, height, frames) of a file's video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return (stream.codec_context.name, stream.codec_context.format.name, stream.width,
                stream.height, frames)


@pytest.mark.parametrize("name, plays", [
    ("h264.mp4", True), ("vp9.webm", True), ("h264_bframes.avi", False),
    ("mpeg2_ps.mpg", False), ("tiny_ffv1.mkv", False), ("yuv444.mp4", False),
    ("anim.gif", False), ("text.mp4", False),
])
def test_what_a_browser_plays(make_video, tmp_path, name, plays):
    if name == "yuv444.mp4":
        path = write_video(tmp_path / name, 4, 64, 96, pix_fmt="yuv444p")
    elif name == "anim.gif":
        path = write_gif(tmp_path / name)
    else:
        path = make_video(name)
    assert browser_plays(path) is plays


def test_an_avi_previews_as_h264_with_its_frames_in_order(make_video, tmp_path):
    preview = make_preview(make_video("h264_bframes.avi"), tmp_path)  # 120 frames, 25 fps
    assert preview.parent == tmp_path and preview.name.startswith("preview_")
    assert stream_of(preview) == ("h264", "yuv420p", 96, 64, 120) and browser_plays(preview)
    with VideoReader(preview) as reader:
        seen = [read_index(f.numpy()) for f in reader.get_frames([0, 60, 119])]
    assert seen == [0, 60, 119]


def test_a_gif_previews_too(tmp_path):
    preview = make_preview(write_gif(tmp_path / "anim.gif"), tmp_path)
    assert stream_of(preview)[:2] == ("h264", "yuv420p") and stream_of(preview)[4] == 12


def test_previews_are_bounded_in_size_and_time(make_video, tmp_path):
    codec, _, width, height, frames = stream_of(make_preview(make_video("4k.mp4"), tmp_path))
    assert (width, height) == (MAX_SIDE, 270) and frames == 3  # 3840 x 2160 -> 480 x 270
    long = make_preview(make_video("ten_minutes.mp4"), tmp_path)  # 18000 frames at 30 fps
    with VideoReader(long) as reader:  # the 10 s around the centre, which the model reads
        assert reader.num_frames == 300
        first, last = (read_index(f.numpy(), bands=5) for f in reader.get_frames([0, 299]))
    assert 8800 <= first <= 8900 and last == first + 299


def test_an_unreadable_upload_is_a_clear_error(make_video, tmp_path):
    with pytest.raises(VideoDecodeError, match="cannot decode 'text.mp4': not a video file"):
        make_preview(make_video("text.mp4"), tmp_path)


def handlers(demo) -> dict:
    return {fn.name: fn.fn for fn in demo.fns.values()}


def test_the_page_previews_uploads_and_classifies_the_upload_itself(make_video, tmp_path,
                                                                   one_thread):
    from slowfast_edu.app import build_demo
    from slowfast_edu.app.menu import DEFAULT_LABEL

    demo = build_demo()
    fns = handlers(demo)
    avi = str(make_video("h264_bframes.avi"))
    shown, originals = fns["preview"](avi, {})
    assert Path(shown).name.startswith("preview_") and originals == {Path(shown).name: avi}
    skipped, same = fns["preview"](str(SAMPLE), originals)  # an H.264 MP4: shown as it is
    assert same is originals and skipped == {"__type__": "update"}
    button = next(fn for name, fn in fns.items() if name == "<lambda>")  # the upload button
    assert button(str(SAMPLE), {}) == (str(SAMPLE), {})
    big = str(write_video(tmp_path / "big.avi", 10, 480, 640))
    shown, originals = fns["preview"](big, {})
    assert stream_of(Path(shown))[2:4] == (MAX_SIDE, 360)
    answer = fns["classify"](shown, DEFAULT_LABEL, originals)  # the preview is what the page has
    assert "Video: 640x480 px" in answer[4]  # ... and the model read the upload itself (timings)
    demo.close()


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
def test_in_a_browser_an_avi_plays_and_a_gif_can_be_chosen(app, make_video, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from .test_browser import CHROMIUM_ARGS

    gif = write_gif(tmp_path / "anim.gif")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app.local_url)
            page.locator("input[type=file]").first.set_input_files(
                str(make_video("h264_bframes.avi")))
            video = page.locator("video").first
            expect(video).to_have_attribute("src", _preview, timeout=60_000)
            duration = video.evaluate("v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)"
                                      " : v.addEventListener('loadedmetadata', () => "
                                      "ok(v.duration)))")
            assert duration == pytest.approx(4.8, abs=0.1)  # 120 frames at 25 fps, not NaN
            button = page.locator("input[type=file][accept*='.gif']")
            button.set_input_files(str(gif))
            expect(page.locator("video").first).to_have_attribute("src", _preview,
                                                                  timeout=60_000)
            page.get_by_role("button", name="Classify").click()
            # in its world or not, the answer comes with its timings
            expect(page.get_by_text("Processing time")).to_be_visible(timeout=60_000)
        finally:
            browser.close()


_preview = __import__("re").compile(r"preview_[0-9a-f]+\.mp4")
