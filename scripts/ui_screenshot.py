"""Make the screenshots of ``rrin ui`` in docs/images, in headless Chromium.

    python scripts/ui_screenshot.py [--model NAME|PATH] [--out docs/images]

Starts the page on a free loopback port (with ``--model``, or the shipped models when none
is given), opens it in headless Chromium (``/usr/bin/chromium``, driven by Playwright;
nothing is downloaded) and saves, as 256-colour PNGs:

* ``ui_phone.png``: the first screen at 390×844 before anything is chosen (upload, settings
  and Start must be on it);
* ``ui.png``: the first screen at 1280×800 after converting ``examples/bbb_sample.mp4`` ×2;
* ``ui_phone_done.png``: the same job's first screen at 390×844;
* ``ui_pair.png``: the Two images tab at 1280×800 after two frames of the sample clip.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_text(page, selector: str, text: str, timeout: float = 300000) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)


def save(page, path: Path, full_page: bool = False) -> None:
    """A screenshot of ``page`` as a 256-colour PNG."""
    from PIL import Image

    raw = path.with_suffix(".raw.png")
    page.screenshot(path=str(raw), full_page=full_page)
    Image.open(raw).convert("RGB").quantize(colors=256).save(path, optimize=True)
    raw.unlink()
    print(f"{path}: {path.stat().st_size // 1024} KB")


def two_frames(clip: Path, folder: Path) -> tuple[Path, Path]:
    """Frames 10 and 12 of ``clip`` as PNG files."""
    import cv2

    capture = cv2.VideoCapture(str(clip))
    frames = []
    for index in range(13):
        ok, frame = capture.read()
        if ok and index in (10, 12):
            frames.append(frame)
    capture.release()
    paths = folder / "first.png", folder / "second.png"
    for path, frame in zip(paths, frames):
        cv2.imwrite(str(path), frame)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="weights file or shipped name (default: the shipped models)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--clip", type=Path, default=ROOT / "examples" / "bbb_sample.mp4")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from rrin.ui import UISettings, start

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        first, second = two_frames(args.clip, Path(scratch))
        with start(UISettings(port=free_port(), model=args.model)) as app, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(Path(scratch) / "profile"), executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run"], viewport=PHONE)
            page = context.new_page()
            page.goto(app.url)
            page.wait_for_selector("#start")
            page.wait_for_timeout(500)
            save(page, args.out / "ui_phone.png")

            page.set_viewport_size(DESKTOP)
            page.locator("#input-video input[type=file]").set_input_files(str(args.clip))
            wait_text(page, "#estimate", "measured on this computer")
            page.click("#start")
            wait_text(page, "#done", "Done")
            page.wait_for_selector("#result-video video")
            page.wait_for_timeout(1000)
            page.evaluate("window.scrollTo(0, 0)")
            save(page, args.out / "ui.png")
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(500)
            save(page, args.out / "ui_phone_done.png")

            page.set_viewport_size(DESKTOP)
            page.get_by_role("tab", name="Two images").click()
            page.locator("#image0 input[type=file]").set_input_files(str(first))
            page.locator("#image1 input[type=file]").set_input_files(str(second))
            page.wait_for_timeout(500)
            page.click("#interpolate")
            page.wait_for_selector("#explain img", timeout=300000)
            page.wait_for_timeout(1000)
            save(page, args.out / "ui_pair.png", full_page=True)
            context.close()


if __name__ == "__main__":
    main()
