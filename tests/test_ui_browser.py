"""``rrin ui`` in a real headless Chromium (``/usr/bin/chromium`` through Playwright, no
browser download), as a person uses it: on a wide screen (1280×800) and a phone (390×844).

The page runs the parameter-free ``dis-synthesis`` model on a 64×48, 6-frame clip; every
connection and name lookup beyond the loopback is refused (the server's process) and the
browser must fetch nothing but the app's own address. The tests skip, saying why, only when
``/usr/bin/chromium`` or Playwright is missing; CI installs both.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")

from ui_support import app, decode_bytes, files, offline  # noqa: E402,F401 - fixtures

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = os.environ.get("RRIN_UI_SCREENSHOT")  # where the first test also saves its screenshot
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}

#: Text contrast of every visible button and tab, and controls with no name a screen reader can say.
AUDIT = """() => {
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).map(Number);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b); };
  const background = (element) => { for (let node = element; node; node = node.parentElement) {
      const parts = getComputedStyle(node).backgroundColor.match(/[\\d.]+/g).map(Number);
      if (parts.length < 4 || parts[3] > 0.5) return getComputedStyle(node).backgroundColor; }
    return "rgb(255, 255, 255)"; };
  const low = [];
  document.querySelectorAll("button, [role=button], [role=tab], a").forEach((control) => {
    if (!control.offsetParent) return;
    const walker = document.createTreeWalker(control, NodeFilter.SHOW_TEXT);
    for (let text; (text = walker.nextNode());) {
      const element = text.parentElement;
      if (!text.textContent.trim() || !element.offsetParent) continue;
      const [a, b] = [luminance(getComputedStyle(element).color), luminance(background(element))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) low.push(`${text.textContent.trim()}: ${ratio.toFixed(2)}`);
    }
  });
  const unnamed = [];
  document.querySelectorAll("button, input, select, video, progress, a[href], [role=slider], [role=button]")
    .forEach((control) => {
      if ((!control.offsetParent && control.tagName !== "VIDEO") || ["file", "hidden"].includes(control.type)) return;
      const name = control.getAttribute("aria-label") || control.getAttribute("title") || control.textContent.trim()
        || (control.labels && control.labels.length && control.labels[0].textContent.trim())
        || control.getAttribute("aria-labelledby");
      if (!name || /^[a-z0-9]+(-[a-z0-9]+)+$/.test(name)) unnamed.push(control.outerHTML.slice(0, 120));
    });
  return {low, unnamed};
}"""


@pytest.fixture(scope="module")
def browser(app):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="rrin-ui-browser-"), executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"], viewport=DESKTOP)
        context.on("request", lambda request: requests.append(request.url))
        yield context
        context.close()
    outside = [url for url in requests if not url.startswith((app.url, "data:", "blob:"))]
    assert outside == [], f"the page fetched from outside the app: {outside}"


@pytest.fixture
def page(app, browser):
    """A new tab on the page, closed after the test."""
    tab = browser.new_page()
    tab.set_viewport_size(DESKTOP)
    tab.goto(app.url)
    tab.wait_for_selector("#input-video input[type=file]", state="attached", timeout=30000)
    yield tab
    if not tab.is_closed():
        tab.close()


#: The text a Markdown element shows (not its hidden progress timer).
_SHOWN = ("(s) => { const e = document.querySelector(s + ' .prose') || document.querySelector(s); "
          "return e ? e.innerText : ''; }")


def shown(page, selector: str) -> str:
    return page.evaluate(_SHOWN, selector).strip()


def wait_text(page, selector: str, text: str, timeout: float = 60000) -> str:
    page.wait_for_function(f"([s, t]) => ({_SHOWN})(s).includes(t)", arg=[selector, text], timeout=timeout)
    return shown(page, selector)


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def upload(page, path: Path, selector: str = "#input-video") -> None:
    page.locator(f"{selector} input[type=file]").set_input_files(str(path))


def pop_ups(page) -> list[str]:
    """The texts of Gradio's pop-ups (toasts) shown now."""
    return [text.strip() for text in page.locator(".toast-body").all_inner_texts() if text.strip()]


def bottom(page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    return box["y"] + box["height"]


def test_first_screen_has_upload_settings_and_start(page):
    """Before anything is chosen, the upload, the settings and Start fit the first screen of a
    wide screen and of a phone; the models are in plain words, their details folded away."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.evaluate("window.scrollTo(0, 0)")
        assert page.locator("#input-video").bounding_box()["y"] < 200, size
        assert bottom(page, "#start") <= size["height"], f"Start is below the first screen at {size}"
        assert bottom(page, "#model") <= size["height"], size
    labels = " | ".join(page.locator("#model label").all_inner_texts())
    assert "Best quality (rrin-dis-lite)" in labels and "Fastest" in labels, labels
    assert not page.locator("#models").is_visible()  # the models' details are folded away
    assert "PSNR" not in page.inner_text("#tab-video")
    assert page.locator("#shared").is_visible()  # this app has a shared folder


def test_upload_run_and_see_the_result(app, page, files):
    page.set_viewport_size(DESKTOP)
    upload(page, files["clip"])
    facts = wait_text(page, "#facts", "6 frames")
    assert "64×48" in facts and "aac" in facts
    wait_text(page, "#estimate", "measured on this computer")
    assert "Makes 11 frames" in shown(page, "#estimate")
    page.click("#start")
    done = wait_text(page, "#done", "Done")
    assert "11 frames from 6" in done
    page.wait_for_selector("#result-video video", timeout=30000)
    page.hover("#result-video video")  # the player shows its controls
    page.wait_for_timeout(300)
    result, done_box = page.locator("#result-video").bounding_box(), page.locator("#done").bounding_box()
    assert done_box["y"] - (result["y"] + result["height"]) < 80 and abs(done_box["x"] - result["x"]) < 40
    assert shown(page, "#status") == ""  # the progress went, the result speaks
    assert "clip_x2" in page.inner_text("#download")
    link = page.locator("#download a").first.get_attribute("href")
    assert decode_bytes(page.request.get(link).body()) == 11
    audit = page.evaluate(AUDIT)
    assert audit == {"low": [], "unnamed": []}, audit
    assert pop_ups(page) == []
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)


def test_a_bad_upload_is_one_sentence_under_it(app, page, files):
    upload(page, files["corrupt"])
    text = wait_text(page, "#facts", "not a video this page can read")
    assert text.strip() == "⚠️ corrupt.mp4 is not a video this page can read."
    page.wait_for_timeout(1500)  # the browser tries to play it meanwhile
    assert pop_ups(page) == []  # no "Video not playable" pop-up on top of the sentence
    page.click("#start")
    wait_text(page, "#status", "not a video this page can read")
    page.click("#start")
    page.wait_for_timeout(1000)
    assert pop_ups(page) == [] and page.get_by_text("Error", exact=True).count() == 0  # no red badges


def test_a_too_large_upload_is_refused_in_megabytes(app, page, files):
    upload(page, files["big"])
    text = wait_text(page, "#facts", "MB")
    assert text.strip() == "⚠️ “big.mp4” is 1.3 MB: this page takes files up to 1 MB."
    page.wait_for_timeout(500)
    assert pop_ups(page) == []


def test_only_the_active_setting_is_editable_and_problems_show_beside_start(app, page, files):
    assert not page.locator("#fps").is_visible()  # ×2 is chosen: no frame rate to type
    page.locator("#make").get_by_text("a frame rate", exact=True).click()
    page.wait_for_selector("#fps textarea, #fps input")
    upload(page, files["clip"])
    wait_text(page, "#facts", "6 frames")
    field = page.locator("#fps textarea, #fps input").first
    field.fill("5")
    field.press("Enter")
    text = wait_text(page, "#estimate", "at least")
    assert text.strip() == "⚠️ The frame rate must be at least the video's own, 12 frames per second."
    page.get_by_text("File format and quality").click()
    page.wait_for_selector("#codec label")  # the accordion renders its content after the click
    labels = page.locator("#codec label").all_inner_texts()
    assert any(label.startswith("H.264 MP4 — plays everywhere") for label in labels), labels


def test_cancel_speaks_only_when_a_job_runs_and_clears_on_the_next(app, page, files):
    page.click("#cancel")
    page.wait_for_timeout(800)
    assert shown(page, "#status") == ""  # nothing ran: nothing to say
    upload(page, files["clip"])
    wait_text(page, "#estimate", "measured on this computer")
    results_before = set(app.workspace.results.iterdir())
    with app.runner._lock:  # the CPU is busy: the job starts and waits
        page.click("#start")
        wait_until(lambda: app.sessions.running_jobs() == 1)
        page.click("#cancel")
        wait_text(page, "#status", "Cancelled")
        time.sleep(0.5)  # the job notices within 0.1 s
    time.sleep(1.5)  # had it not stopped, it would have finished by now
    assert set(app.workspace.results.iterdir()) == results_before and list(app.workspace.jobs.iterdir()) == []
    assert "Done" not in shown(page, "#done")
    page.click("#start")
    wait_text(page, "#done", "Done")
    assert "Cancelled" not in shown(page, "#status")


def test_closing_the_tab_cancels_its_job(app, browser, page, files):
    upload(page, files["clip"])
    wait_text(page, "#estimate", "measured on this computer")
    results_before = set(app.workspace.results.iterdir())
    with app.runner._lock:
        page.click("#start")
        wait_until(lambda: app.sessions.running_jobs() == 1)
        page.close()
        wait_until(lambda: app.sessions.running_jobs() == 0)  # the job saw its tab close and stopped
    time.sleep(1.5)
    assert set(app.workspace.results.iterdir()) == results_before, "the closed tab's job went on"
    assert list(app.workspace.jobs.iterdir()) == []


def test_the_shared_folder_menu_and_the_keyboard(app, page, files):
    page.locator("#shared input").click()
    assert page.locator("[role=listbox]").is_visible()
    page.keyboard.press("Tab")
    page.wait_for_timeout(500)
    assert not page.locator("[role=listbox]").is_visible(), "the drop-down stayed open after Tab"
    assert page.evaluate("() => document.activeElement.getAttribute('role')") != "combobox"  # the focus moved on
    page.locator("#shared input").click()
    page.get_by_text("shared clip.mp4").last.click()
    assert "shared clip.mp4" in wait_text(page, "#facts", "4 frames")


def test_two_images_are_shown_whole_with_the_flow_key(app, page, files):
    page.get_by_role("tab", name="Two images").click()
    upload(page, files["a"], "#image0")
    upload(page, files["b"], "#image1")
    page.wait_for_timeout(500)
    page.click("#interpolate")
    page.wait_for_selector("#explain img", timeout=60000)
    page.wait_for_timeout(500)
    fits = page.evaluate("() => [...document.querySelectorAll('#pair-frames img, #explain img')]"
                         ".map((img) => getComputedStyle(img).objectFit)")
    assert fits and set(fits) == {"contain"}, fits
    flow = page.locator("#explain img").first.bounding_box()
    assert flow["width"] > 100 and flow["height"] > 60  # the key in its corner is on screen, not cropped away
    assert "colour wheel in the top-right corner" in page.inner_text("#tab-pair")
