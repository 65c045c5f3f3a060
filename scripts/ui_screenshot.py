"""Make the README's screenshot of ``rrin ui``: the sample clip converted ×2 in the page.

    python scripts/ui_screenshot.py [--model NAME|PATH] [--out docs/images/ui.png]

Starts the page on a free loopback port (with ``--model``, or the shipped models when none
is given), opens it in headless Chromium
(``/usr/bin/chromium``, driven by Playwright; nothing is downloaded), uploads
``examples/bbb_sample.mp4``, previews one pair, converts it ×2 and saves the page as a
256-colour PNG.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=120000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="weights file or shipped name (default: the shipped models)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "ui.png")
    parser.add_argument("--clip", type=Path, default=ROOT / "examples" / "bbb_sample.mp4")
    args = parser.parse_args()

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from rrin.ui import UISettings, start

    with tempfile.TemporaryDirectory() as scratch:
        with start(UISettings(port=free_port(), model=args.model)) as app, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(Path(scratch) / "profile"), executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run"],
                viewport={"width": 1100, "height": 900})
            page = context.new_page()
            page.goto(app.url)
            page.locator("#input-video input[type=file]").set_input_files(str(args.clip))
            wait_text(page, "#facts", "frames")
            page.get_by_text("Preview one pair before a long job").click()
            page.click("#preview")
            wait_text(page, "#facts", "measured on this machine")
            page.click("#start")
            wait_text(page, "#status", "Done")
            page.wait_for_selector("#result-video video")
            page.wait_for_timeout(500)
            shot = Path(scratch) / "page.png"
            page.screenshot(path=str(shot), full_page=True)
            context.close()
        picture = Image.open(shot).convert("RGB")
        picture = picture.resize((picture.width * 3 // 4, picture.height * 3 // 4), Image.LANCZOS)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        picture.quantize(colors=256).save(args.out, optimize=True)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
