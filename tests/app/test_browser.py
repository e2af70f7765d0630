"""The app in a real browser: Debian's chromium driven by Playwright uploads a clip and reads the
top label, then a clip outside the default model's world and sees the notice above the labels.
Skipped where /usr/bin/chromium is absent (`.ci/run` installs it when it can).

The README's screenshot is made by `docs/app_screenshot.py` (the same steps, from the current
default model).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from slowfast_edu.data.synthetic import write_video

from .conftest import SAMPLE


def upload(page, path: Path) -> None:
    """Replace the clip in the page's video input with `path`."""
    from playwright.sync_api import expect

    page.get_by_label("Clear").first.click()
    page.locator("input[type=file]").first.set_input_files(str(path))
    expect(page.locator("video").first).to_be_visible(timeout=30_000)


def noise_frames():
    """(32, 64, 64, 3) uint8 of random pixels: a clip no model was trained on."""
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (32, 64, 64, 3), dtype=np.uint8)

CHROMIUM = Path("/usr/bin/chromium")
# no GPU, no sandbox (containers), nothing fetched behind our back
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install "
                                                     f"chromium)"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]


def test_upload_a_clip_and_read_the_top_label(app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(app.local_url)
            page.locator("input[type=file]").first.set_input_files(str(SAMPLE))
            expect(page.locator("video").first).to_be_visible(timeout=30_000)  # the upload
            page.get_by_role("button", name="Classify").click()
            top = page.get_by_test_id("label-output-value")
            expect(top).to_have_text("red_circle_moving_left", timeout=60_000)
            expect(page.get_by_text("Processing time")).to_be_visible()
            expect(page.locator("img[src*='image.png']")).to_have_count(2)
            notice = page.locator("#out-of-world-notice")
            expect(notice).to_be_hidden()  # a clip of its world: no notice
            page.wait_for_timeout(500)  # let the animation's first frame show
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)

            outside = tmp_path / "static_noise.mp4"
            write_video(outside, noise_frames())
            upload(page, outside)
            page.get_by_role("button", name="Classify").click()
            expect(notice).to_be_visible(timeout=60_000)
            expect(notice).to_contain_text("outside this model's world")
            expect(notice).to_contain_text("slowfast-edu weights download slowfast_8x8_r50")
            expect(page.get_by_text("Not an answer: the labels this model knows")).to_be_visible()
            upload(page, SAMPLE)
            page.get_by_role("button", name="Classify").click()
            expect(notice).to_be_hidden(timeout=60_000)  # and gone again for the next clip
            expect(page.get_by_test_id("label-output-value")).to_have_text(
                "red_circle_moving_left")
        finally:
            browser.close()
    hosts = {urlparse(url).hostname for url in requested if not url.startswith(("data:",
                                                                                  "blob:"))}
    assert hosts == {"127.0.0.1"}  # fonts, scripts, everything came from the app itself
    with Image.open(shot) as picture:
        assert picture.size[0] == 1280 and picture.size[1] >= 900


def test_the_detect_tab_finds_the_shapes_and_labels_each_box(app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from slowfast_edu.app.detection import example_clip

    clip, truth = example_clip(tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app.local_url)
            page.get_by_role("tab", name="Detect").click()
            tab = page.locator("#detect-tab")
            tab.locator("input[type=file]").first.set_input_files(str(clip))
            expect(tab.locator("video").first).to_be_visible(timeout=30_000)
            boxes = tab.get_by_label("Boxes: x1,y1,x2,y2 per line")
            tab.get_by_role("button", name="Find the shapes").click()
            expect(boxes).not_to_have_value("", timeout=30_000)
            assert sorted(boxes.input_value().splitlines()) == sorted(truth.splitlines())  # found
            tab.get_by_role("button", name="Detect", exact=True).click()
            expect(tab.get_by_text("Processing time")).to_be_visible(timeout=60_000)
            expect(tab.get_by_text("moving_right 9")).to_be_visible()  # the table's box #2
            expect(tab.locator("#detect-notice")).to_be_hidden()
            expect(tab.locator("img[src*='image.png']")).to_have_count(2)  # key frame, Grad-CAM
            page.screenshot(path=str(tmp_path / "detect.png"), full_page=True)
            boxes.fill("1,2,3")
            tab.get_by_role("button", name="Detect", exact=True).click()
            expect(page.get_by_text("3 numbers; a box is 4")).to_be_visible(timeout=30_000)
        finally:
            browser.close()
