"""``rrin ui``'s parts without a server: the request guard, the plain messages, the estimate's
stopwatch, the tabs' jobs, the model menu in plain words and the page without a shared folder."""

from __future__ import annotations

import threading

import pytest

from rrin.errors import CheckpointError, InputError
from rrin.ui.guard import NOT_AN_UPLOAD, check_request_files
from rrin.ui.messages import UNEXPECTED, PlainError, plain_message, plain_text
from rrin.ui.models import ModelChoices
from rrin.ui.sessions import Sessions
from rrin.ui.speed import Speed, SpeedBook, Stopwatch, rough_speed
from rrin.ui.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    space = Workspace(parent=tmp_path)
    yield space
    space.remove()


def test_the_guard_passes_uploads_only(workspace, tmp_path):
    upload = workspace.cache / "abc" / "clip.mp4"
    upload.parent.mkdir()
    upload.write_bytes(b"x")
    reference = lambda path: {"path": str(path), "meta": {"_type": "gradio.FileData"}}  # noqa: E731
    check_request_files([reference(upload), "×N frames", 2, None, {"value": [reference(upload)]}], workspace)
    check_request_files([None, "", 0.5, [1, 2]], workspace)  # no files at all
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    result = workspace.keep_result_folder() / "made.mp4"
    result.write_bytes(b"x")
    nested = {"value": {"gallery": [reference(upload), {"image": reference(outside)}]}}
    deep = current = {}
    for _ in range(40):
        current["next"] = {}
        current = current["next"]
    for bad in (reference(outside), reference(result), {"path": str(outside)}, {"url": "http://198.51.100.7/a.mp4"},
                reference("http://198.51.100.7/a.mp4"), reference(f"{upload.parent}/../../../{outside.name}"),
                {"path": 7}, nested, deep):
        with pytest.raises(InputError, match=NOT_AN_UPLOAD):
            check_request_files(["×N frames", bad], workspace)


@pytest.mark.parametrize("error, sentence", [
    (InputError("/tmp/rrin-ui-x/cache/a1/passwd is not a readable video: [Errno 1094995529] Invalid data found "
                "when processing input: 'passwd'"), "passwd is not a video this page can read."),
    (InputError("input.png is not a readable image"), "input.png is not a picture this page can read."),
    (InputError("--fps 5 is below the input's 12 frames/s"), "5 is below the input's 12 frames/s."),
    (InputError("cannot encode with libx265: [Errno 22] Invalid argument"),
     "The video could not be written in the chosen format: try “H.264 MP4”."),
    (CheckpointError("no shipped weights are installed: pass --model PATH"),
     "No model is installed: whoever started this page must name one when starting it."),
    (PlainError("×N must be a whole number from 2 to 16."), "×N must be a whole number from 2 to 16."),
    (RuntimeError("CUDA kernel failed at 0x7f"), UNEXPECTED),
])
def test_problems_are_one_plain_sentence(error, sentence):
    text = plain_message(error)
    assert text == sentence
    for jargon in ("Errno", "--", "libx26", "[", "\n"):
        assert jargon not in text


def test_library_notes_lose_their_jargon():
    assert plain_text("subtitles dropped by libvpx-vp9 [Errno 5]; see --codec") == "Subtitles dropped by “VP9 WebM”."


class Clock:
    """A stand-in for ``time.monotonic`` that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_countdown_starts_from_the_estimate_and_ignores_the_warm_up(monkeypatch):
    """×2 of 11 frames (21 out, 10 new): 3 s to start, a first pair of 4 s (warm-up), then
    1 s a pair. The countdown starts from the estimate, not from the slow first pair, and
    what is recorded leaves the warm-up in the start-up."""
    clock = Clock()
    monkeypatch.setattr("rrin.ui.speed.time.monotonic", clock)
    reports = []
    prior = Speed(64, 48, setup=6.0, per_new_frame=1.0)  # 6 + 10 × 1 = 16 s
    watch = Stopwatch(lambda done, total, left: reports.append((done, left)), prior=prior, pair_frames=2.0,
                      new_per_pair=1.0)
    watch.total = 21
    clock.now += 3
    watch(1)  # the first frame is out when the job has started
    assert reports[-1][1] == pytest.approx(13.0)  # the estimate (16 s) minus the 3 s gone
    clock.now += 4
    watch(2)
    watch(3)  # the first pair (4 s: warm-up)
    assert watch.seconds_left() == pytest.approx(9.0)  # 9 pairs left at the estimated 1 s, not at 4 s
    for done in range(4, 22, 2):
        clock.now += 1
        watch(done)
        watch(done + 1)
    assert reports[-1] == (21, 0.0)
    speed = watch.speed(64, 48)
    assert speed.per_new_frame == pytest.approx(1.0) and speed.setup == pytest.approx(6.0)
    assert speed.seconds(10) == pytest.approx(clock.now - 100.0)  # the measured pace explains the job


def test_the_countdown_moves_to_the_pace_it_sees(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("rrin.ui.speed.time.monotonic", clock)
    lefts = []
    watch = Stopwatch(lambda done, total, left: lefts.append(left), prior=Speed(64, 48, 0.0, 1.0), pair_frames=2.0)
    watch.total = 201  # 100 pairs; really 2 s each, the estimate said 1 s
    watch(1)
    for done in range(2, 202):
        clock.now += 1.0
        watch(done)
    assert lefts[2] == pytest.approx(99.0, rel=0.02)  # at first: the estimate
    assert lefts[100] == pytest.approx((201 - 101) / 2 * 2.0, rel=0.02)  # past a fifth of the job: what it sees


def test_the_speed_book_scales_the_nearest_size():
    book = SpeedBook()
    assert book.lookup("m", 64, 48) == (None, False)
    book.record("m", Speed(100, 100, 2.0, 1.0))
    book.record("m", Speed(1000, 1000, 3.0, 50.0))
    assert book.lookup("m", 100, 100) == (Speed(100, 100, 2.0, 1.0), True)
    scaled, exact = book.lookup("m", 200, 100)
    assert not exact and scaled.per_new_frame == pytest.approx(2.0) and scaled.setup == 2.0
    assert book.lookup("other", 100, 100) == (None, False)


def test_the_first_guess_grows_with_the_networks_work():
    """Before any measurement: a DIS model's guess counts its refinement U-Nets and no flow
    U-Net (it once subtracted the flow U-Net it never had and came out negative)."""
    from rrin.model.config import PRESETS

    guess = {name: rough_speed(PRESETS[name], 1280, 720).per_new_frame for name in ("dis-synthesis", "dis-lite", "lite")}
    assert 0 < guess["dis-synthesis"] < guess["dis-lite"] < guess["lite"]
    assert not rough_speed(PRESETS["dis-lite"], 1280, 720).measured


def test_cancel_and_closing_a_tab():
    sessions = Sessions()
    assert not sessions.cancel("tab")  # nothing asked, nothing running: nothing to say
    sessions.ask("tab")
    assert sessions.busy("tab") and sessions.cancel("tab") and not sessions.busy("tab")
    late = threading.Event()
    with sessions.running("tab", late):  # the cancelled job's handler started all the same
        assert late.is_set()
    sessions.ask("tab")  # a new click: the job runs
    job = threading.Event()
    with sessions.running("tab", job):
        assert not job.is_set() and sessions.running_jobs() == 1
        assert sessions.cancel("tab") and job.is_set()
    assert sessions.running_jobs() == 0 and not sessions.cancel("tab")
    other = threading.Event()
    with sessions.running("other tab", other):
        assert sessions.close("other tab") and other.is_set()
    queued = threading.Event()
    with sessions.running("other tab", queued):  # a job of the closed tab that was still queued
        assert queued.is_set()


def test_the_models_in_plain_words():
    class Shipped:
        def __init__(self, name, speed, default_for=()):
            self.name, self.speed, self.default_for = name, speed, default_for
            self.description, self.scores = f"{name} details", {"clip x2": "30 dB"}

    models = ModelChoices(shipped=[Shipped("fast-one", "0.11 s per frame"),
                                   Shipped("good-one", "0.88 s per frame", ("cpu",))])
    assert models.dropdown() == [("Best quality (good-one)", "good-one"), ("Fastest, about 8× quicker (fast-one)",
                                                                            "fast-one")]
    assert models.default_key == "good-one" and models.source(None) == "good-one" and models.source("default") is None
    assert "good-one details" in models.details() and "30 dB" in models.details()


def test_no_shared_folder_no_shared_folder_line(workspace):
    pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")
    from rrin.ui.app import build_app
    from rrin.ui.jobs import JobRunner

    page = build_app(JobRunner(workspace, ModelChoices(shipped=[])), max_upload_mb=5)
    text = str(page.get_config_file()).lower()
    assert "shared" not in text and "up to 5 mb" in text
