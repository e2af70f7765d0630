"""The app in a real browser: Debian's chromium driven by Playwright uploads a clip and reads the
top label. Skipped where /usr/bin/chromium is absent (`.ci/run` installs it when it can).

`SLOWFAST_EDU_APP_SCREENSHOT=docs/app.png pytest tests/app/test_browser.py` also saves the
screenshot the README shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from .conftest import SAMPLE

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
            page.wait_for_timeout(500)  # let the animation's first frame show
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    hosts = {urlparse(url).hostname for url in requested if not url.startswith(("data:",
                                                                                  "blob:"))}
    assert hosts == {"127.0.0.1"}  # fonts, scripts, everything came from the app itself
    with Image.open(shot) as picture:
        assert picture.size[0] == 1280 and picture.size[1] >= 900
    target = os.environ.get("SLOWFAST_EDU_APP_SCREENSHOT")
    if target:
        with Image.open(shot) as picture:  # a palette PNG keeps the README's picture small
            picture.convert("RGB").quantize(colors=128).save(target, optimize=True)
