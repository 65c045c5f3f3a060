"""``rrin interpolate --cluster``: the segment plan, and whole jobs on one local Ray instance.

The Ray instance (2 CPUs, loopback only, token authentication on, no dashboard, no usage
statistics) is started once for the module; the jobs' drivers connect to it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from rrin.cli import main
from rrin.inference import schedule
from rrin.errors import InputError
from rrin.inference.cluster_plan import SourceFrame, plan_segments, source_frames
from rrin.inference.cluster_task import PAUSE_ENV, SegmentWorker, TaskSpec
from rrin.inference.pipeline import InterpolateOptions
from rrin.io.video import VideoReader
from rrin.model import PRESETS, RRIN, save_weights
from test_video import SRC, decoded, make_clip, pattern

# --- the plan (no Ray) ---------------------------------------------------------------------

PTS = [0, 40, 80, 200, 240, 280, 400, 440]  # ms, variable frame rate


def source(pts=PTS, thumbs=None):
    return [SourceFrame(k, p, Fraction(p, 1000), None if thumbs is None else np.full((36, 64), thumbs[k], np.float32))
            for k, p in enumerate(pts)]


@pytest.mark.parametrize("mode", [{"factor": 3}, {"fps": Fraction(50)}])
def test_plan_cuts_between_pairs_and_covers_every_output_frame(mode):
    whole = schedule.plan([Fraction(p, 1000) for p in PTS], time_base=Fraction(1, 1000), **mode)
    for size in (1, 4, 7, 1000):
        plan = plan_segments(source(), InterpolateOptions(**mode), size)
        segments = plan.segments
        assert plan.frames_in == 8 and plan.frames_out == len(whole)
        assert segments[0].first == 0 and segments[-1].last == 7 and segments[-1].final
        assert not any(s.final for s in segments[:-1]) and all(s.out_frames >= size for s in segments[:-1])
        for a, b in zip(segments, segments[1:]):  # the frame that closes a pair opens the next segment
            assert b.first == a.last and b.out_first == a.out_first + a.out_frames
            assert b.pts[0] == a.pts[-1]
        assert segments[-1].out_first + segments[-1].out_frames == len(whole)
        if size == 1000:
            assert len(segments) == 1
    assert len(plan_segments(source(), InterpolateOptions(**mode), 1).segments) == 7  # one pair each


def test_plan_keeps_a_run_of_duplicates_inside_one_pair():
    # frames 1, 2 repeat frame 0 and frame 5 repeats frame 4: pairs (0,3) (3,4) (4,6)
    plan = plan_segments(source(PTS[:7], [0.1, 0.1, 0.1, 0.5, 0.9, 0.9, 0.3]), InterpolateOptions(factor=2, dedup=0.002), 1)
    assert [(s.first, s.last, s.out_first, s.out_frames) for s in plan.segments] == [(0, 3, 0, 6), (3, 4, 6, 2), (4, 6, 8, 5)]
    assert plan.duplicates == 3 and plan.frames_out == (7 - 1) * 2 + 1


@pytest.mark.parametrize("mode", [{"factor": 2}, {"factor": 3}, {"fps": Fraction(24)}])
@pytest.mark.parametrize("shifts", [[0, 2, 2], [0, 2, 4, 4, 4], [0, 0, 0], [0, 0, 2, 2]])
def test_plan_ends_a_trailing_run_of_duplicates_where_one_process_does(mode, shifts):
    """A trailing run of duplicates spans (run length) input intervals: --factor N makes
    (n − 1)·N + 1 frames. The planner used to plan the last pair with one interval too many
    (p0, p2, p2 at --factor 2: 7 frames); its segments now cover exactly the frames the
    one-process pipeline writes."""
    from test_pipeline import ListSink, blend, shifted

    from rrin.inference.pipeline import interpolate_stream
    from rrin.inference.scenes import thumbnail

    inputs = shifted(shifts)
    options = InterpolateOptions(**mode, scene_threshold=None, dedup=0.002)
    sink = ListSink()
    interpolate_stream(inputs, sink, blend, options)
    per_input = mode.get("factor", 2)
    assert sink.pts == list(range((len(shifts) - 1) * per_input + 1))
    source_ = [SourceFrame(f.index, f.pts, f.timestamp, thumbnail(f.image)) for f in inputs]
    for size in (1, 3, 1000):
        plan = plan_segments(source_, options, size)
        covered = [o for s in plan.segments for o in range(s.out_first, s.out_first + s.out_frames)]
        assert covered == sink.pts and plan.frames_out == len(sink.pts)
        assert plan.segments[-1].last == len(shifts) - 1 and plan.segments[-1].final


@pytest.mark.parametrize("dedup", [False, True])
def test_plan_refuses_a_truncated_video(tmp_path, dedup):
    """One process converts what decodes and says so; a cluster job refuses before it starts."""
    data = make_clip(tmp_path / "full.mkv", n=12, codec="ffv1", pix_fmt="yuv444p").read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) * 6 // 10])
    with VideoReader(tmp_path / "cut.mkv") as reader, pytest.raises(InputError, match="truncated file"):
        list(source_frames(reader, dedup))
    with VideoReader(tmp_path / "full.mkv") as reader:
        assert [f.pts for f in source_frames(reader, dedup)] == [f.pts for f in VideoReader(tmp_path / "full.mkv")]


def test_cluster_refuses_the_fps_one_process_refuses(tmp_path, capsys):
    """--cluster had its own copy of convert's checks, without the upper --fps bound: it
    accepted 1000 fps for a 12 fps input. Both paths prepare the job with one function now
    (refused before any cluster is reached)."""
    clip = make_clip(tmp_path / "in.mkv", n=4, codec="ffv1", pix_fmt="yuv444p", rate=12)
    for extra in ([], ["--cluster", "127.0.0.1:9"]):
        assert main(["interpolate", str(clip), str(tmp_path / "out.mkv"), "--fps", "1000", "--quiet", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["rrin: error: --fps 1000 is more than 64 times the input's 12 frames/s"], (extra, err)


def test_worker_reports_what_it_cannot_reach(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    spec = TaskSpec(str(tmp_path / "missing.mkv"), None, 2, str(not_a_folder), None, InterpolateOptions(factor=2),
                    Fraction(0), 0, None, 8, 8)
    problem = SegmentWorker(spec).check()["problem"]
    assert "cannot read" in problem and "missing.mkv" in problem and "cannot write in" in problem
    ok = TaskSpec(str(not_a_folder), None, 2, str(tmp_path), None, InterpolateOptions(factor=2), Fraction(0), 0, None, 8, 8)
    assert SegmentWorker(ok).check()["problem"] is None


# --- whole jobs on a local Ray instance -------------------------------------------------------

@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """One local Ray instance for the module: 2 CPUs, bound to 127.0.0.1, token auth on."""
    pause = tmp_path_factory.mktemp("pause")
    patch = pytest.MonkeyPatch()
    for name, value in {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # loopback only
                        "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
                        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                        PAUSE_ENV: str(pause)}.items():
        patch.setenv(name, value)
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 * 1024, logging_level="ERROR")
    try:
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        yield {"address": ray.get_runtime_context().gcs_address, "pause": pause}
    finally:
        ray.shutdown()
        patch.undo()


@pytest.fixture(scope="module")
def dis_weights(tmp_path_factory) -> Path:
    """The parameter-free DIS synthesis: deterministic on every worker."""
    return save_weights(RRIN(PRESETS["dis-synthesis"]), tmp_path_factory.mktemp("dis") / "dis.safetensors", half=False)


@pytest.fixture(scope="module")
def clip_and_reference(tmp_path_factory, dis_weights):
    """A 12-frame lossless clip with audio and a scene cut, and its one-process conversion."""
    folder = tmp_path_factory.mktemp("clip")
    clip = make_clip(folder / "in.mkv", n=12, codec="ffv1", pix_fmt="yuv444p", audio=True, cut_at=7)
    reference = folder / "ref.mkv"
    assert main(["interpolate", str(clip), str(reference), *COMMON, "--model", str(dis_weights)]) == 0
    return clip, reference


COMMON = ["--factor", "3", "--codec", "ffv1", "--backend", "eager", "--quiet"]
CLUSTER = ["--cluster", "local", "--workers", "2", "--segment-frames", "5"]


def assert_same_video(out: Path, reference: Path) -> None:
    frames, times = decoded(out)
    ref_frames, ref_times = decoded(reference)
    assert len(frames) == len(ref_frames) == (12 - 1) * 3 + 1 and times == ref_times
    assert all(np.array_equal(a, b) for a, b in zip(frames, ref_frames))
    with av.open(str(out)) as dst, av.open(str(reference)) as src:
        assert [bytes(p) for p in dst.demux(dst.streams.audio[0]) if p.size] == \
               [bytes(p) for p in src.demux(src.streams.audio[0]) if p.size]
        assert dst.streams.video[0].average_rate == src.streams.video[0].average_rate


def ran(pause: Path) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in pause.glob("ran-*"))


def clear(pause: Path) -> None:
    for p in pause.iterdir():
        p.unlink()


def test_cluster_output_equals_one_process(ray_cluster, clip_and_reference, dis_weights, tmp_path):
    clip, reference = clip_and_reference
    out = tmp_path / "out.mkv"
    clear(ray_cluster["pause"])
    assert main(["interpolate", str(clip), str(out), *COMMON, *CLUSTER, "--model", str(dis_weights)]) == 0
    assert_same_video(out, reference)
    assert ran(ray_cluster["pause"]) == list(range(6))  # 34 frames: five segments of 2 pairs (6 frames), the last 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mkv"]  # no parts, no temporary files


def test_cluster_output_with_the_shipped_weights_equals_one_process(ray_cluster, clip_and_reference, tmp_path):
    """The parameter-free synthesis cannot tell whether the weights reached the workers
    right; the shipped default (rrin-dis-lite, no --model) can: same frames as one process,
    and not the synthesis's."""
    clip, synthesis = clip_and_reference
    reference, out = tmp_path / "ref.mkv", tmp_path / "out.mkv"
    assert main(["interpolate", str(clip), str(reference), *COMMON]) == 0
    clear(ray_cluster["pause"])
    assert main(["interpolate", str(clip), str(out), *COMMON, *CLUSTER]) == 0
    assert_same_video(out, reference)
    frames, synthesis_frames = decoded(out)[0], decoded(synthesis)[0]
    assert sum(not np.array_equal(a, b) for a, b in zip(frames, synthesis_frames)) >= 20  # the weights matter


def test_frame_folders_with_duplicates_and_a_cut(ray_cluster, dis_weights, tmp_path):
    """Folder in, folder out; duplicate runs (one at the end) and a cut at segment edges
    decide as in one process."""
    folder = tmp_path / "in"
    folder.mkdir()
    shifts = [0, 2, 2, 2, 4, 6, 6, 8, 10, 10]
    for k, shift in enumerate(shifts):
        cv2.imwrite(str(folder / f"{k + 1}.png"), pattern(shift // 2, scene=int(k >= 7))[:, :, ::-1])
    options = ["--factor", "2", "--dedup", "--backend", "eager", "--quiet", "--model", str(dis_weights)]
    assert main(["interpolate", str(folder), str(tmp_path / "ref"), *options]) == 0
    assert main(["interpolate", str(folder), str(tmp_path / "out"), *options, *CLUSTER[:4], "--segment-frames", "2"]) == 0
    ref, out = sorted((tmp_path / "ref").iterdir()), sorted((tmp_path / "out").iterdir())
    assert [p.name for p in out] == [p.name for p in ref] and len(ref) == (10 - 1) * 2 + 1
    assert all(np.array_equal(cv2.imread(str(a)), cv2.imread(str(b))) for a, b in zip(out, ref))
    assert not (tmp_path / "out.rrin-parts").exists()


def test_a_killed_worker_is_retried_and_the_output_is_the_same(ray_cluster, clip_and_reference, dis_weights, tmp_path):
    clip, reference = clip_and_reference
    pause, out = ray_cluster["pause"], tmp_path / "out.mkv"
    clear(pause)
    (pause / "hold-2").touch()
    codes = []
    job = threading.Thread(target=lambda: codes.append(
        main(["interpolate", str(clip), str(out), *COMMON, *CLUSTER, "--model", str(dis_weights)])))
    job.start()
    try:
        deadline = time.monotonic() + 60
        while not list(pause.glob("ran-2-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        (busy,) = pause.glob("ran-2-*")
        os.kill(int(busy.name.split("-")[2]), signal.SIGKILL)  # the worker holding segment 2
    finally:
        (pause / "hold-2").unlink()
        job.join()
    assert codes == [0]
    assert len(list(pause.glob("ran-2-*"))) == 2  # segment 2 ran again, in a restarted worker
    assert_same_video(out, reference)


def test_driver_killed_then_resume_reuses_finished_segments(ray_cluster, clip_and_reference, dis_weights, tmp_path):
    clip, reference = clip_and_reference
    pause, out = ray_cluster["pause"], tmp_path / "out.mkv"
    journal = tmp_path / "out.mkv.rrin-parts" / "journal.json"
    args = [str(clip), str(out), *COMMON, "--cluster", ray_cluster["address"], "--workers", "2",
            "--segment-frames", "5", "--resume", "--model", str(dis_weights)]
    clear(pause)
    (pause / "hold-3").touch()
    (pause / "hold-4").touch()
    driver = subprocess.Popen([sys.executable, "-m", "rrin", "interpolate", *args], env=dict(os.environ, OMP_NUM_THREADS="1"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and driver.poll() is None:
            finished = json.loads(journal.read_text())["segments"] if journal.is_file() else []
            if len(finished) >= 2 and list(pause.glob("ran-3-*")) and list(pause.glob("ran-4-*")):
                break
            time.sleep(0.02)
        driver.kill()
        assert driver.wait() == -signal.SIGKILL, driver.stderr.read().decode()
    finally:
        (pause / "hold-3").unlink()
        (pause / "hold-4").unlink()
    finished = {s["number"] for s in json.loads(journal.read_text())["segments"]}
    assert finished == {0, 1, 2} and not out.exists()
    time.sleep(0.5)  # the dead driver's workers are stopped by Ray
    clear(pause)
    assert main(["interpolate", *args]) == 0
    assert ran(pause) == [3, 4, 5]  # the finished segments were reused
    assert_same_video(out, reference)
    assert not journal.parent.exists()


def test_a_segment_that_fails_for_good_is_one_line_and_leaves_no_output(ray_cluster, dis_weights, tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for k in range(8):
        cv2.imwrite(str(folder / f"{k}.png"), pattern(k)[:, :, ::-1])
    (folder / "5.png").write_bytes(b"not a png")  # read by segments 4 and 5 (one pair, 2 output frames, each)
    out = tmp_path / "out.mkv"
    code = main(["interpolate", str(folder), str(out), "--factor", "2", "--codec", "ffv1", "--backend", "eager", "--quiet",
                 "--model", str(dis_weights), "--cluster", "local", "--workers", "2", "--segment-frames", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("rrin: error: segment ") and "5.png is not a readable image" in err[0], err
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    parts = tmp_path / "out.mkv.rrin-parts"  # what finished stays for --resume, nothing half-written
    assert all(not p.name.startswith(".") for p in parts.iterdir())


def test_unreachable_cluster_bad_address_and_no_ray_are_one_line_errors(ray_cluster, clip_and_reference, tmp_path,
                                                                       capsys, monkeypatch):
    clip, _ = clip_and_reference
    out = tmp_path / "out.mkv"
    cases = [(["--cluster", "127.0.0.1:9"], "cannot reach the Ray cluster at 127.0.0.1:9"),
             (["--cluster", "not an address"], "is not a Ray address"),
             (["--workers", "2"], "--workers needs --cluster")]
    for extra, message in cases:
        assert main(["interpolate", str(clip), str(out), "--quiet", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert main(["interpolate", str(clip), str(out), "--quiet", "--cluster", "auto"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "rrin[cluster]"' in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_x264_mp4_segments_join_like_one_process(ray_cluster, clip_and_reference, dis_weights, tmp_path):
    """Segments encoded with B-frames (x264 in NUT shifts their timestamps) join with the
    first pts each worker wrote: same frame count and timestamps as a one-process run."""
    clip, _ = clip_and_reference
    options = [opt for opt in COMMON if opt not in ("--codec", "ffv1")]
    reference, out = tmp_path / "ref.mp4", tmp_path / "out.mp4"
    assert main(["interpolate", str(clip), str(reference), *options, "--model", str(dis_weights)]) == 0
    clear(ray_cluster["pause"])
    assert main(["interpolate", str(clip), str(out), *options, *CLUSTER, "--model", str(dis_weights)]) == 0
    timestamps = []
    for path in (out, reference):
        with av.open(str(path)) as container:
            timestamps.append([frame.pts for frame in container.decode(video=0)])
    assert timestamps[0] == timestamps[1] and len(timestamps[0]) == 34
