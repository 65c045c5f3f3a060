"""``rrin ui``: the page served on a free loopback port, driven through ``gradio_client``
and a real headless Chromium, plus its job runner, path checks and command line.

The model is the parameter-free ``dis-synthesis`` preset (fast, deterministic). While the
module runs, every socket connection and name lookup of this process to anything but the
loopback is refused and recorded: the page must not reach the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import pytest

pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.client import Status  # noqa: E402

from conftest import moving_square  # noqa: E402
from rrin.cli import main  # noqa: E402
from rrin.errors import CheckpointError, InputError  # noqa: E402
from rrin.model import RRIN, save_weights  # noqa: E402
from rrin.model.config import PRESETS  # noqa: E402
from rrin.ui import UISettings, start  # noqa: E402
from rrin.ui.jobs import Cancelled, JobRunner, VideoRequest  # noqa: E402
from rrin.ui.models import ModelChoices  # noqa: E402
from rrin.ui.workspace import Workspace  # noqa: E402
from test_video import make_clip  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = os.environ.get("RRIN_UI_SCREENSHOT")  # where the browser test also saves its screenshot


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _local(host) -> bool:
    if host in (None, "localhost", "", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="module")
def offline():
    """Refuse and record any connection or lookup of this process beyond the loopback."""
    attempts: list[str] = []
    patch = pytest.MonkeyPatch()
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            attempts.append(f"connect {address}")
            raise OSError("network access refused by the test")

    def guarded_connect(sock, address):
        check(sock, address)
        return connect(sock, address)

    def guarded_connect_ex(sock, address):
        check(sock, address)
        return connect_ex(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _local(host):
            attempts.append(f"lookup {host}")
            raise socket.gaierror("name lookups refused by the test")
        return getaddrinfo(host, *args, **kwargs)

    patch.setattr(socket.socket, "connect", guarded_connect)
    patch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    patch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    patch.undo()
    assert attempts == [], f"the page tried to reach the network: {attempts}"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ui")
    weights = save_weights(RRIN(PRESETS["dis-synthesis"]), root / "dis-synthesis.safetensors")
    share = root / "share"
    share.mkdir()
    make_clip(share / "shared clip.mp4", n=4)
    (root / "outside.mp4").write_bytes((share / "shared clip.mp4").read_bytes())
    (share / "link.mp4").symlink_to(root / "outside.mp4")
    clip = make_clip(root / "clip.mp4", n=6, audio=True)
    corrupt = root / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    import cv2

    cv2.imwrite(str(root / "a.png"), moving_square(shift=0))
    cv2.imwrite(str(root / "b.png"), moving_square(shift=4))
    return {"root": root, "weights": Path(weights), "share": share, "clip": clip, "corrupt": corrupt,
            "a": root / "a.png", "b": root / "b.png", "downloads": root / "downloads"}


@pytest.fixture(scope="module")
def app(offline, files):
    running = start(UISettings(port=free_port(), model=str(files["weights"]), share_dir=files["share"], max_upload_mb=1))
    yield running
    root = running.workspace.root
    running.close()
    assert not root.exists(), "the private folder outlived the app"


@pytest.fixture(scope="module")
def client(app, files):
    return Client(app.url, verbose=False, download_files=str(files["downloads"]))


def video_inputs(path, mode="×N frames", factor=2, fps="60", codec="libx264", crf=""):
    video = handle_file(str(path)) if isinstance(path, (str, Path)) else path
    return video, mode, factor, fps, None, codec, crf


def decode(path: Path) -> tuple[int, list[str]]:
    with av.open(str(path)) as container:
        audio = [stream.codec_context.name for stream in container.streams.audio]
        return sum(1 for _ in container.decode(video=0)), audio


def decode_bytes(data: bytes) -> int:
    """Frames in a video given as bytes."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        return decode(Path(file.name))[0]


# ---------------------------------------------------------------- through gradio_client


def test_api_converts_an_upload_and_keeps_the_audio(app, client, files):
    facts = client.predict(*video_inputs(files["clip"])[:5], api_name="/facts")
    assert "64×48" in facts and "6 frames" in facts and "aac" in facts and "11 frames" in facts
    facts = client.predict(handle_file(str(files["clip"])), "target fps", 2, "abc", None, api_name="/facts")
    assert "6 frames" in facts and facts.endswith("**Error:** not a frame rate: 'abc'")  # facts stay, choice refused
    result, download, status = client.predict(*video_inputs(files["clip"]), api_name="/convert")
    frames, audio = decode(Path(result))
    assert frames == 11 and audio == ["aac"]  # (6 − 1)·2 + 1
    assert Path(download).read_bytes() == Path(result).read_bytes()
    assert "Done: 11 frames from 6" in status
    assert list(app.workspace.jobs.iterdir()) == []  # the job's private folder is gone


def test_api_reads_nothing_but_uploads(app, client, files):
    """A path sent instead of an upload is refused (even the shared folder's: the page picks
    those through its own menu); the server hands out no file outside its folders; uploads
    over --max-upload-mb are refused by the server itself, not only by the page."""
    import httpx

    with httpx.Client(timeout=30) as http:
        for path in ("/etc/passwd", str(files["root"] / "outside.mp4"), str(files["share"] / "shared clip.mp4")):
            data = [{"path": path, "meta": {"_type": "gradio.FileData"}}, "×N frames", 2, "60", None, "libx264", ""]
            event = http.post(f"{app.url}gradio_api/call/convert", json={"data": data}).json()["event_id"]
            answer = http.get(f"{app.url}gradio_api/call/convert/{event}").text
            assert "event: error" in answer and "root:" not in answer and "Done" not in answer, answer
        assert http.get(f"{app.url}gradio_api/file=/etc/passwd").status_code == 403
        assert http.get(f"{app.url}gradio_api/file={files['root'] / 'outside.mp4'}").status_code == 403
        big = http.post(f"{app.url}gradio_api/upload", files={"files": ("big.mp4", os.urandom(1_200_000))})
        assert big.status_code >= 400, "an upload over --max-upload-mb was accepted"
    assert list(app.workspace.jobs.iterdir()) == []


@pytest.mark.parametrize("inputs, message", [
    (dict(path="corrupt"), "corrupt.mp4 is not a readable video"),
    (dict(mode="target fps", fps="abc"), "not a frame rate: 'abc'"),
    (dict(mode="target fps", fps="-5"), "must be positive"),
    (dict(mode="target fps", fps="100000"), "more than this page allows"),
    (dict(mode="target fps", fps="5"), "below the input's 12"),
    (dict(factor=1), "factor must be between 2 and 16"),
    (dict(crf="best"), "CRF) must be a whole number"),
])
def test_api_errors_are_one_readable_line(app, client, files, inputs, message):
    path = files[inputs.pop("path", "clip")]
    with pytest.raises(Exception) as error:
        client.predict(*video_inputs(path, **inputs), api_name="/convert")
    text = str(error.value)
    assert message in text and "\n" not in text and str(app.workspace.root) not in text, text
    assert list(app.workspace.jobs.iterdir()) == []


def test_api_preview_and_two_images(client, files):
    before, middle, after, caption, facts = client.predict(handle_file(str(files["clip"])), 0.2, "×N frames", 4, "60",
                                                           None, api_name="/preview")
    import cv2

    shapes = {cv2.imread(path).shape for path in (before, middle, after)}
    assert shapes == {(48, 64, 3)} and "t = 0.50" in caption and "measured on this machine" in facts
    frames, pictures = client.predict(handle_file(str(files["a"])), handle_file(str(files["b"])), 0.5, 3, None,
                                      api_name="/pair")
    assert [frame["caption"] for frame in frames] == ["t = 0.250", "t = 0.500", "t = 0.750"]
    names = {picture["caption"] for picture in pictures}
    assert {"flow_01", "flow_t0", "weight_0", "blend", "residue"} <= names
    assert cv2.imread(frames[1]["image"]).shape == (40, 56, 3)


def test_jobs_queue_one_at_a_time_and_cancel_through_the_api(app, files):
    """While one job runs, a second user's job waits in the queue (and sees its place);
    cancelling the first stops it and leaves nothing behind; then the second runs."""
    first = Client(app.url, verbose=False, download_files=str(files["downloads"]))
    second = Client(app.url, verbose=False, download_files=str(files["downloads"]))
    results_before = set(app.workspace.results.iterdir())
    with app.runner._lock:  # the CPU is busy: the first job starts and waits for it
        running = first.submit(*video_inputs(files["clip"]), api_name="/convert")
        deadline = time.monotonic() + 20
        while running.status().code not in (Status.PROGRESS, Status.PROCESSING) and time.monotonic() < deadline:
            time.sleep(0.05)
        waiting = second.submit(*video_inputs(files["clip"]), api_name="/convert")
        while waiting.status().code != Status.IN_QUEUE and time.monotonic() < deadline:
            time.sleep(0.05)
        status = waiting.status()
        assert status.code == Status.IN_QUEUE and status.rank == 0, status
        running.cancel()
        while not running.done() and time.monotonic() < deadline:
            time.sleep(0.05)
    result, _, _ = waiting.result(timeout=30)
    assert decode(Path(result))[0] == 11
    assert list(app.workspace.jobs.iterdir()) == []
    assert len(set(app.workspace.results.iterdir()) - results_before) == 1  # the second job's result only


# ---------------------------------------------------------------- the job runner


def test_cancel_stops_the_job_and_keeps_nothing(tmp_path, files):
    workspace = Workspace(parent=tmp_path)
    try:
        upload = workspace.cache / "upload" / "clip.mp4"
        upload.parent.mkdir()
        upload.write_bytes(files["clip"].read_bytes())
        runner = JobRunner(workspace, ModelChoices(str(files["weights"]), shipped=[]))
        cancel = threading.Event()
        seen = []

        def report(done, total, left):
            seen.append((done, total))
            cancel.set()  # the user presses Cancel after the first frame

        with pytest.raises(Cancelled):
            runner.convert_video(upload, VideoRequest(factor=4), report=report, cancel=cancel)
        assert seen == [(1, 21)]
        assert list(workspace.jobs.iterdir()) == [] and list(workspace.results.iterdir()) == []
    finally:
        workspace.remove()


def test_a_cancelled_handler_tells_its_job_to_stop():
    """What Gradio's cancel (page button, ``Job.cancel()``) does: cancel the handler's task."""
    from rrin.ui.app import _in_thread

    stopped = threading.Event()

    def job(cancel):
        if not cancel.wait(10):
            raise AssertionError("never told to stop")
        stopped.set()

    async def scenario():
        task = asyncio.ensure_future(_in_thread(job))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert stopped.wait(5)


def test_no_model_is_the_library_error(tmp_path, files, monkeypatch):
    from rrin.model import registry

    empty = tmp_path / "weights"
    empty.mkdir()
    (empty / "registry.json").write_text('{"models": []}')
    monkeypatch.setattr(registry, "_weights_dir", lambda: empty)  # an installation without shipped weights
    workspace = Workspace(parent=tmp_path)
    try:
        upload = workspace.cache / "clip.mp4"
        upload.write_bytes(files["clip"].read_bytes())
        models = ModelChoices(None, shipped=[])
        assert models.empty and models.source(None) is None and "No model" in models.table()
        with pytest.raises(CheckpointError, match="no shipped weights are installed"):
            JobRunner(workspace, models).convert_video(upload, VideoRequest())
        with pytest.raises(InputError, match="unknown model"):
            models.source("/etc/passwd")
    finally:
        workspace.remove()


def test_shared_folder_paths_stay_inside(tmp_path, files):
    workspace = Workspace(files["share"], parent=tmp_path)
    try:
        assert workspace.shared_videos() == ["shared clip.mp4"]  # the symlink out is not listed
        assert workspace.shared_file("shared clip.mp4") == (files["share"] / "shared clip.mp4").resolve()
        for name in ("../outside.mp4", "link.mp4", str(files["root"] / "outside.mp4"), "", "missing.mp4"):
            with pytest.raises(InputError):
                workspace.shared_file(name)
        with pytest.raises(InputError, match="can only read uploads"):
            workspace.check_input(files["share"] / "link.mp4")
    finally:
        workspace.remove()


def test_old_uploads_and_results_are_pruned(tmp_path):
    workspace = Workspace(parent=tmp_path)
    try:
        old_upload, new_upload = workspace.cache / "old", workspace.cache / "new"
        for folder in (old_upload, new_upload):
            folder.mkdir()
            (folder / "clip.mp4").write_bytes(b"x")
        old_result = workspace.keep_result_folder()
        day_ago = time.time() - 24 * 3600
        for path in (old_upload, old_result):
            os.utime(path, (day_ago, day_ago))
        assert workspace.prune(max_age=3600) == 2
        assert sorted(p.name for p in workspace.cache.iterdir()) == ["new", "results"]
        assert list(workspace.results.iterdir()) == []
    finally:
        workspace.remove()


# ---------------------------------------------------------------- the command


def test_command_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["ui", "--model", str(tmp_path / "missing.safetensors"), "--port", str(free_port())]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["ui", "--port", str(busy.getsockname()[1])]) == 2
    environment = dict(os.environ)
    with monkeypatch.context() as without:
        without.setitem(sys.modules, "gradio", None)  # as if the ui extra were not installed
        assert main(["ui", "--port", str(free_port())]) == 2
    assert dict(os.environ) == environment  # GRADIO_TEMP_DIR and the offline switches undone
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3, errors
    assert "does not exist" in errors[0] and "cannot listen" in errors[1] and "pip install 'rrin[ui]'" in errors[2]
    assert not list(tmp_path.glob("rrin-ui-*"))  # no private folder left behind


def test_command_prints_its_url_serves_loopback_and_cleans_up(tmp_path, files):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(SRC), TMPDIR=str(tmp_path))
    child = subprocess.Popen([sys.executable, "-m", "rrin", "ui", "--port", str(port), "--model", str(files["weights"])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = child.stdout.readline()
        assert line.startswith(f"rrin ui: open http://127.0.0.1:{port}/"), (line, child.stderr.read())
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        assert list(tmp_path.glob("rrin-ui-*"))  # the private folder exists while it runs
        child.send_signal(signal.SIGTERM)
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not list(tmp_path.glob("rrin-ui-*")), "the private folder outlived the command"


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser_page(app):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="rrin-ui-browser-"), executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
            viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(app.url)
        page.wait_for_selector("#input-video input[type=file]", state="attached", timeout=30000)
        yield page, requests
        context.close()
    outside = [url for url in requests if not url.startswith((app.url, "data:", "blob:"))]
    assert outside == [], f"the page fetched from outside the app: {outside}"


def _wait_text(page, selector: str, text: str, timeout: float = 30000) -> str:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)
    return page.inner_text(selector)


def test_browser_upload_run_and_see_the_result(browser_page, files, tmp_path):
    page, _ = browser_page
    page.locator("#input-video input[type=file]").set_input_files(str(files["clip"]))
    facts = _wait_text(page, "#facts", "6 frames")
    assert "64×48" in facts and "aac" in facts and "11 frames" in facts
    page.click("#start")
    _wait_text(page, "#status", "Done: 11 frames from 6")
    page.wait_for_selector("#result-video video", timeout=30000)
    assert "clip_x2" in page.inner_text("#download")
    link = page.locator("#download a").first.get_attribute("href")
    assert decode_bytes(page.request.get(link).body()) == 11
    shot = tmp_path / "ui.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if SCREENSHOT:
        Path(SCREENSHOT).write_bytes(shot.read_bytes())


def test_browser_bad_upload_shows_one_line(browser_page, files):
    page, _ = browser_page
    page.locator("#input-video button[aria-label='Clear']").first.click()
    page.locator("#input-video input[type=file]").set_input_files(str(files["corrupt"]))
    text = _wait_text(page, "#facts", "not a readable video")
    lines = [line for line in text.splitlines() if "corrupt" in line]  # (a timer may share the box)
    assert len(lines) == 1 and lines[0].startswith("Error: corrupt.mp4 is not a readable video"), text


def test_browser_picks_a_video_from_the_shared_folder(browser_page):
    page, _ = browser_page
    page.locator("#shared input").click()
    page.get_by_text("shared clip.mp4").last.click()
    facts = _wait_text(page, "#facts", "4 frames")
    assert "shared clip.mp4" in facts


def test_browser_cancel_stops_the_job(app, browser_page, files):
    page, _ = browser_page
    page.locator("#input-video button[aria-label='Clear']").first.click()
    page.locator("#input-video input[type=file]").set_input_files(str(files["clip"]))
    _wait_text(page, "#facts", "6 frames")
    results_before = set(app.workspace.results.iterdir())
    with app.runner._lock:  # the CPU is busy: the job starts and waits
        page.click("#start")
        page.wait_for_selector(".progress-text", timeout=30000)  # Gradio's timer: the job has started
        page.click("#cancel")
        _wait_text(page, "#status", "Cancelled")
        time.sleep(0.5)  # the job notices within 0.1 s
    time.sleep(1.5)  # had it not stopped, it would have finished by now
    assert set(app.workspace.results.iterdir()) == results_before and list(app.workspace.jobs.iterdir()) == []
    assert "Done" not in page.inner_text("#status")
