"""``rrin ui`` through ``gradio_client`` (the page's API), its job runner, path checks and
command line; the page in a real browser is test_ui_browser.py.

The model is the parameter-free ``dis-synthesis`` preset (fast, deterministic). While the
module runs, every socket connection and name lookup of this process to anything but the
loopback is refused and recorded: the page must not reach the network.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.client import Endpoint, Status  # noqa: E402

from rrin.cli import main  # noqa: E402
from rrin.errors import CheckpointError, InputError  # noqa: E402
from rrin.ui import UISettings, start  # noqa: E402
from rrin.ui.guard import NOT_AN_UPLOAD  # noqa: E402
from rrin.ui.jobs import Cancelled, JobRunner, VideoRequest  # noqa: E402
from rrin.ui.models import ModelChoices  # noqa: E402
from rrin.ui.workspace import Workspace  # noqa: E402
from ui_support import app, decode, files, free_port, offline  # noqa: E402,F401 - fixtures

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def client(app, files):
    return Client(app.url, verbose=False, download_files=str(files["downloads"]))


def video_inputs(path, mode="×N frames", factor=2, fps="60", codec="libx264", crf=""):
    video = handle_file(str(path)) if isinstance(path, (str, Path)) else path
    return video, mode, factor, fps, None, codec, crf


# ---------------------------------------------------------------- through gradio_client


def test_api_converts_an_upload_and_keeps_the_audio(app, client, files):
    facts = client.predict(*video_inputs(files["clip"])[:5], api_name="/facts")
    assert "64×48" in facts and "6 frames" in facts and "aac" in facts and "Makes 11 frames" in facts
    facts = client.predict(handle_file(str(files["clip"])), "target fps", 2, "abc", None, api_name="/facts")
    assert "6 frames" in facts and facts.endswith("Error: The frame rate must be a number above 0, such as 60, "
                                                  "59.94 or 24000/1001.")  # the facts stay, the choice is refused
    result, download, status = client.predict(*video_inputs(files["clip"]), api_name="/convert")
    frames, audio = decode(Path(result))
    assert frames == 11 and audio == ["aac"]  # (6 − 1)·2 + 1
    assert Path(download).read_bytes() == Path(result).read_bytes()
    assert "Done**: 11 frames from 6" in status
    assert list(app.workspace.jobs.iterdir()) == []  # the job's private folder is gone


def _cache_files(app) -> set[Path]:
    return {path for path in app.workspace.cache.rglob("*") if path.is_file()}


def test_api_refuses_every_file_that_was_not_uploaded(app, client, files, monkeypatch):
    """A client that sends server paths (or web addresses) instead of uploading gets one
    sentence from every endpoint, and the server opens and copies none of them; the server
    hands out no file outside its folders; uploads over --max-upload-mb are refused by the
    server itself, not only by the page."""
    import httpx

    client.predict(*video_inputs(files["clip"]), api_name="/convert")  # uploads and a result exist
    result = next(app.workspace.results.rglob("*.mp4"))  # made by the server, not uploaded
    monkeypatch.setattr(Endpoint, "_upload_file", lambda self, f, data_index: dict(f))  # send paths as they are
    secret = files["root"] / "outside.mp4"
    refused = ["/etc/passwd", str(secret), str(files["share"] / "shared clip.mp4"), str(result),
               f"{app.workspace.cache}/../../{secret.relative_to('/')}", "http://198.51.100.7/clip.mp4",
               f"{app.url}gradio_api/file={secret}", "passwd", ""]
    before = _cache_files(app)
    for path in refused:
        reference = {"path": path, "meta": {"_type": "gradio.FileData"}}
        calls = {"/facts": (reference, "×N frames", 2, "60", None),
                 "/convert": (reference, "×N frames", 2, "60", None, "libx264", ""),
                 "/preview": (reference, 0.0, "×N frames", 2, "60", None),
                 "/pair": (reference, reference, 0.5, 1, None)}
        for endpoint, inputs in calls.items():
            with pytest.raises(Exception) as error:
                client.predict(*inputs, api_name=endpoint)
            assert NOT_AN_UPLOAD in str(error.value), (endpoint, path, error.value)
    assert _cache_files(app) == before, "a refused file was copied into the cache"
    with httpx.Client(timeout=30) as http:  # a reference without Gradio's marker is refused too
        data = [{"path": str(secret)}, "×N frames", 2, "60", None]
        event = http.post(f"{app.url}gradio_api/call/facts", json={"data": data}).json()["event_id"]
        answer = http.get(f"{app.url}gradio_api/call/facts/{event}").text
        assert "event: error" in answer and NOT_AN_UPLOAD in answer, answer
        assert http.get(f"{app.url}gradio_api/file=/etc/passwd").status_code == 403
        assert http.get(f"{app.url}gradio_api/file={secret}").status_code == 403
        assert http.get(f"{app.url}gradio_api/file={files['share'] / 'shared clip.mp4'}").status_code == 403
        big = http.post(f"{app.url}gradio_api/upload", files={"files": ("big.mp4", files["big"].read_bytes())})
        assert big.status_code >= 400, "an upload over --max-upload-mb was accepted"
    assert list(app.workspace.jobs.iterdir()) == []


@pytest.mark.parametrize("inputs, message", [
    (dict(path="corrupt"), "corrupt.mp4 is not a video this page can read."),
    (dict(mode="target fps", fps="abc"), "The frame rate must be a number above 0, such as 60"),
    (dict(mode="target fps", fps="-5"), "The frame rate must be a number above 0, such as 60"),
    (dict(mode="target fps", fps="100000"), "The frame rate can be at most 1000 frames per second."),
    (dict(mode="target fps", fps="5"), "The frame rate must be at least the video's own, 12 frames per second."),
    (dict(factor=1), "×N must be a whole number from 2 to 16."),
    (dict(factor=2.5), "×N must be a whole number from 2 to 16."),
    (dict(crf="best"), "The quality must be a whole number from 0 to 51 for this format"),
    (dict(codec="ffv1", crf="10"), "The lossless format has no quality number: leave it empty."),
    (dict(codec="h264"), "Choose one of the formats offered."),
])
def test_api_errors_are_one_plain_sentence(app, client, files, inputs, message):
    path = files[inputs.pop("path", "clip")]
    with pytest.raises(Exception) as error:
        client.predict(*video_inputs(path, **inputs), api_name="/convert")
    text = str(error.value)
    assert message in text and "\n" not in text and str(app.workspace.root) not in text, text
    for jargon in ("Errno", "--", "libx264", "Traceback"):
        assert jargon not in text, text
    assert list(app.workspace.jobs.iterdir()) == []


def test_api_preview_and_two_images(client, files):
    before, middle, after, caption = client.predict(handle_file(str(files["clip"])), 0.2, "×N frames", 4, "60",
                                                    None, api_name="/preview")
    import cv2

    shapes = {cv2.imread(path).shape for path in (before, middle, after)}
    assert shapes == {(48, 64, 3)} and "t = 0.50" in caption
    frames, pictures = client.predict(handle_file(str(files["a"])), handle_file(str(files["b"])), 0.5, 3, None,
                                      api_name="/pair")
    assert [frame["caption"] for frame in frames] == ["t = 0.250", "t = 0.500", "t = 0.750"]
    names = {Path(picture["image"]).stem for picture in pictures}
    assert {"flow_01", "flow_t0", "weight_0", "blend", "residue"} <= names
    assert all(picture["caption"] and "_" not in picture["caption"] for picture in pictures)  # words, not file names
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
            if done:
                cancel.set()  # the user presses Cancel after the first frame

        with pytest.raises(Cancelled):
            runner.convert_video(upload, VideoRequest(factor=4), report=report, cancel=cancel)
        assert seen == [(0, 21), (1, 21)]  # the countdown's start, the first frame
        assert list(workspace.jobs.iterdir()) == [] and list(workspace.results.iterdir()) == []
    finally:
        workspace.remove()


def test_a_cancelled_handler_tells_its_job_to_stop():
    """What Gradio's cancel (page button, ``Job.cancel()``) does: cancel the handler's task."""
    from rrin.ui.actions import in_thread

    stopped = threading.Event()

    def job(cancel):
        if not cancel.wait(10):
            raise AssertionError("never told to stop")
        stopped.set()

    async def scenario():
        task = asyncio.ensure_future(in_thread(job))
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
        assert models.empty and models.source(None) is None and "No model" in models.details()
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
        copy = workspace.import_shared("shared clip.mp4")  # what the page plays and converts
        assert copy.read_bytes() == (files["share"] / "shared clip.mp4").read_bytes()
        assert workspace.is_upload(copy) and workspace.check_input(copy) == copy.resolve()
        result = workspace.keep_result(Path(shutil.copy(copy, tmp_path / "made.mp4")))
        for path in (result, workspace.cache / ".." / "jobs", files["share"] / "shared clip.mp4", "/etc/passwd",
                     f"{workspace.cache}/../../{files['clip'].relative_to('/')}", "", "a\0b", None, 7):
            assert not workspace.is_upload(path), path
        with pytest.raises(InputError, match="can only read uploads"):
            workspace.check_input(result)  # the page's results are not inputs
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
    assert main(["ui", "--host", "0.0.0.0", "--port", str(free_port())]) == 2  # other computers: no password
    empty = tmp_path / "password.txt"
    empty.write_text("\n")
    assert main(["ui", "--host", "0.0.0.0", "--port", str(free_port()), "--password-file", str(empty)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 5, errors
    assert "does not exist" in errors[0] and "cannot listen" in errors[1] and "pip install 'rrin[ui]'" in errors[2]
    assert "give it a password (--password-file FILE)" in errors[3] and "first line is empty" in errors[4]
    assert not list(tmp_path.glob("rrin-ui-*"))  # no private folder left behind


def test_a_password_guards_the_page_and_its_api(offline, files):
    import httpx

    with start(UISettings(port=free_port(), model=str(files["weights"]), password="s3cret words")) as running:
        assert httpx.get(f"{running.url}config").status_code == 401
        assert httpx.post(f"{running.url}gradio_api/upload", files={"files": ("a.png", b"x")}).status_code == 401
        assert httpx.get(running.url).status_code == 200 and "password" in httpx.get(running.url).text.lower()
        with pytest.raises(Exception):
            Client(running.url, verbose=False, auth=("anyone", "wrong"))
        client = Client(running.url, verbose=False, auth=("anyone", "s3cret words"))
        facts = client.predict(handle_file(str(files["clip"])), "×N frames", 2, "60", None, api_name="/facts")
        assert "6 frames" in facts


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


