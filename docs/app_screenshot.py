"""Make docs/app.png, the README's picture of the app, from the current default model.

    python docs/app_screenshot.py [--out docs/app.png]

Starts the app on loopback (the embedded default model), drives Debian's chromium with Playwright
(as tests/app/test_browser.py does) and takes two pictures:

1. the whole page after classifying a clip of the synthetic motion set (data_samples/, which the
   project generates itself);
2. the notice and the labels after classifying a clip outside the model's world. That clip is
   made here (a ball bouncing over a meadow under a blue sky, drawn with numpy), not taken from
   ../shared/clips: those are test fixtures, not content to publish. The picture is cropped to
   the notice and the labels.

The two are stacked into one palette PNG. Rerun it whenever the default model or the page
changes, so that the README never shows a stale app.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data_samples" / "val" / "blue_square_moving_right_0001.mp4"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]


def bouncing_ball(path: Path, seconds: float = 3.0, fps: int = 30) -> Path:
    """A 320 x 240 clip unlike the synthetic set: sky, meadow, a ball bouncing across."""
    from slowfast_edu.data.synthetic import write_video

    h, w = 240, 320
    sky = np.linspace([90, 150, 235], [190, 220, 250], 160)[:, None, :]  # (160, 1, 3)
    meadow = np.linspace([70, 150, 60], [40, 110, 40], h - 160)[:, None, :]
    scene = np.concatenate([sky, meadow]).repeat(w, axis=1)  # (H, W, 3)
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for t in range(int(seconds * fps)):
        x, y = 30 + 260 * t / (seconds * fps), 175 - 120 * abs(np.sin(3 * t / fps))
        ball = (xx - x) ** 2 + (yy - y) ** 2 < 18 ** 2
        frame = scene.copy()
        frame[ball] = [235, 120, 40]
        frames.append(frame.astype(np.uint8))
    write_video(path, np.stack(frames), fps=fps)
    return path


def stack(pictures: list[tuple[Image.Image, str]]) -> Image.Image:
    """The pictures one above the other, each under a line of text."""
    line = 36
    width = max(picture.width for picture, _ in pictures)
    sheet = Image.new("RGB", (width, sum(p.height + line for p, _ in pictures)), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=16)
    top = 0
    for picture, text in pictures:
        draw.text((16, top + 10), text, fill="black", font=font)
        sheet.paste(picture, (0, top + line))
        top += picture.height + line
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "app.png")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    from slowfast_edu.app import launch

    with tempfile.TemporaryDirectory(prefix="app_screenshot_") as tmp:
        tmp = Path(tmp)
        os.environ["SLOWFAST_EDU_CACHE"] = str(tmp / "cache")  # the default model only
        os.environ["TORCH_HOME"] = str(tmp / "torch")
        outside = bouncing_ball(tmp / "bouncing_ball.mp4")
        demo = launch(port=None, prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(demo.local_url)
                page.locator("input[type=file]").first.set_input_files(str(SAMPLE))
                expect(page.locator("video").first).to_be_visible(timeout=30_000)
                page.get_by_role("button", name="Classify").click()
                expect(page.get_by_test_id("label-output-value")).to_have_text(
                    "blue_square_moving_right", timeout=60_000)
                page.wait_for_timeout(1000)  # the animation's first frame
                page.screenshot(path=str(tmp / "synthetic.png"), full_page=True)

                page.get_by_label("Clear").first.click()
                page.locator("input[type=file]").first.set_input_files(str(outside))
                expect(page.locator("video").first).to_be_visible(timeout=30_000)
                page.get_by_role("button", name="Classify").click()
                notice = page.locator("#out-of-world-notice")
                expect(notice).to_be_visible(timeout=60_000)
                page.wait_for_timeout(500)
                top = notice.bounding_box()
                labels = page.get_by_text("Not an answer: the labels this model knows")
                box = labels.locator("xpath=ancestor::div[contains(@class, 'block')][1]"
                                     ).bounding_box()
                bottom = box["y"] + box["height"]
                page.screenshot(path=str(tmp / "outside.png"), full_page=True,
                                clip={"x": top["x"] - 8, "y": top["y"] - 8,
                                      "width": top["width"] + 16,
                                      "height": bottom - top["y"] + 16})
                browser.close()
        finally:
            demo.close()
        sheet = stack([
            (Image.open(tmp / "synthetic.png").convert("RGB"),
             "A clip of the synthetic motion set: the top-5, the frames each pathway saw, "
             "Grad-CAM over time"),
            (Image.open(tmp / "outside.png").convert("RGB"),
             "A clip outside the model's world (a bouncing ball, drawn by docs/app_screenshot.py):"
             " the notice above the labels, which are not an answer")])
    sheet.quantize(colors=128).save(args.out, optimize=True)  # a palette PNG: small
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB, {sheet.width}x"
          f"{sheet.height})")


if __name__ == "__main__":
    main()
