"""``--resume`` with lossy encoders, joined outputs' rate, whole-output counts, stale parts.

Clips are tiny (64×48) and made with PyAV; the model is the parameter-free ``dis-synthesis``
preset (DIS flows and the synthesis step), fast and deterministic.
"""

from __future__ import annotations

import json
import signal
from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import make_tiny_model
from rrin.cli import main
from rrin.errors import InputError
from rrin.inference.convert import ConvertJob, convert, model_runner
from rrin.inference.segments import parts_folder
from rrin.model import save_weights
from rrin.model.checkpoint import weights_digest
from rrin.model.registry import default_model_name, load_model
from test_video import decoded, interrupt_after, make_clip, run_cli, segments_done


def cli(args, weights, quiet=True) -> int:
    return main(["interpolate", *map(str, args), "--model", str(weights), *(["--quiet"] if quiet else [])])


def stream_info(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.average_rate, stream.guessed_rate, stream.time_base


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.mark.parametrize("suffix,codec", [(".mp4", None), (".mkv", "libx265")])
def test_lossy_resume_after_kill_matches_an_uninterrupted_run(tmp_path, synthesis_weights, capsys, suffix, codec):
    """kill -9 after some segments, then --resume: the join used to fail (error 22) for any
    encoder with B-frames. The result must have the frame count, timestamps and rate of an
    uninterrupted --resume run and of a one-pass run, and their pictures up to the encoder:
    libx264 is not bit-reproducible from run to run here (its multithreaded encoder gave a
    segment of copied input frames differing by up to 14 levels in about one run in five),
    so pixel equality is tested for the lossless ffv1 (test_video.py), not here."""
    # x264 with B-frames, AAC audio; 40 frames, so that the child is still running when the
    # test (possibly descheduled on a loaded machine) sees the first segment and kills it.
    clip = make_clip(tmp_path / "in.mp4", n=40, audio=True)
    options = ["--factor", "4", "--segment-frames", "8", *(["--codec", codec] if codec else [])]
    plain, whole, out = (tmp_path / f"{name}{suffix}" for name in ("plain", "whole", "out"))
    assert cli([clip, plain, *options], synthesis_weights) == 0
    assert cli([clip, whole, *options, "--resume"], synthesis_weights) == 0
    journal = parts_folder(out) / "journal.json"
    child = run_cli(clip, out, *options, "--resume", "--model", synthesis_weights)
    interrupt_after(child, journal, 1, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists()
    finished = json.loads(journal.read_text())["segments"]
    assert 1 <= len(finished) < 20  # 157 frames: nineteen segments of 8 and one of 5
    capsys.readouterr()
    assert cli([clip, out, *options, "--resume"], synthesis_weights, quiet=False) == 0
    done = sum(s["frames"] for s in finished)
    assert f"{out}: 157 frames from 40 (0 cuts, 0 duplicates, {done} of them from an earlier run)" in capsys.readouterr().err
    assert not parts_folder(out).exists()
    frames, times = decoded(out)
    whole_frames, whole_times = decoded(whole)
    plain_frames, plain_times = decoded(plain)
    assert len(frames) == 157 and times == whole_times == plain_times
    assert min(psnr(a, b) for a, b in zip(frames, whole_frames)) > 30
    assert min(psnr(a, b) for a, b in zip(frames, plain_frames)) > 30
    assert stream_info(out) == stream_info(plain) and stream_info(out)[0] == 48
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_joined_output_keeps_the_rate_and_time_base(tmp_path, synthesis_weights):
    """A --resume output is the segments remuxed; it must carry the one-pass rate and time
    base (an mkv used to have no average rate: players guessed 1000 fps from its
    millisecond timestamps, which at 96 fps are 10 and 11 ms apart)."""
    clip = make_clip(tmp_path / "in.mkv", n=6, codec="ffv1", pix_fmt="yuv444p", rate=24)
    plain, joined = tmp_path / "plain.mkv", tmp_path / "joined.mkv"
    assert cli([clip, plain, "--factor", "4", "--codec", "ffv1"], synthesis_weights) == 0
    assert cli([clip, joined, "--factor", "4", "--codec", "ffv1", "--resume", "--segment-frames", "4"],
               synthesis_weights) == 0
    assert stream_info(joined) == stream_info(plain)
    assert stream_info(joined)[0] == 96
    frames, times = decoded(joined)
    plain_frames, plain_times = decoded(plain)
    assert len(frames) == 21 and times == plain_times  # ffv1 is lossless: the same pixels
    assert all(np.array_equal(a, b) for a, b in zip(frames, plain_frames))


def crashing(run_model, calls: int):
    """``run_model`` that raises on its ``calls``-th call (a crash in the middle of a run)."""
    count = [0]

    def run(img0, img1, times):
        count[0] += 1
        if count[0] == calls:
            raise RuntimeError("simulated crash")
        return run_model(img0, img1, times)

    return run


def test_resumed_run_reports_the_whole_output(tmp_path, synthesis_weights):
    clip = make_clip(tmp_path / "in.mkv", n=8, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    job = ConvertJob(clip, out, factor=4, codec="ffv1", resume=True, segment_frames=4)
    runner = model_runner(job, 48, 64, synthesis_weights)
    with pytest.raises(RuntimeError, match="simulated crash"):
        convert(job, run_model=crashing(runner, 4))
    done = sum(s["frames"] for s in json.loads((parts_folder(out) / "journal.json").read_text())["segments"])
    assert done == 12  # three pairs of 4 frames, one segment each
    report = convert(job, run_model=runner)
    assert (report.result.frames_in, report.result.frames_out, report.result.frames_resumed) == (8, 29, done)
    assert not parts_folder(out).exists()
    assert len(decoded(out)[0]) == 29


def test_a_run_without_resume_removes_stale_parts_but_not_foreign_files(tmp_path, synthesis_weights):
    clip = make_clip(tmp_path / "in.mkv", n=6, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    job = ConvertJob(clip, out, factor=2, codec="ffv1", resume=True, segment_frames=2)
    runner = model_runner(job, 48, 64, synthesis_weights)
    with pytest.raises(RuntimeError):
        convert(job, run_model=crashing(runner, 3))
    parts = parts_folder(out)
    assert segments_done(parts / "journal.json") == 2
    (parts / "notes.txt").write_text("not rrin's")
    assert cli([clip, out, "--factor", "2", "--codec", "ffv1"], synthesis_weights) == 0
    assert len(decoded(out)[0]) == 11
    assert [p.name for p in parts.iterdir()] == ["notes.txt"]  # rrin's segments and journal are gone
    (parts / "notes.txt").unlink()
    with pytest.raises(RuntimeError):  # the same, without a foreign file: the folder goes too
        convert(ConvertJob(clip, out, factor=2, codec="ffv1", resume=True, segment_frames=2, overwrite=True),
                run_model=crashing(runner, 3))
    assert parts.is_dir()
    assert cli([clip, out, "--factor", "2", "--codec", "ffv1", "--overwrite"], synthesis_weights) == 0
    assert not parts.exists()


def test_truncated_mkv_with_audio_says_where_decoding_stopped(tmp_path, synthesis_weights, capsys):
    """Matroska gives no stream duration; its per-track DURATION tag does (with audio, the
    file's duration is not the video's)."""
    clip = make_clip(tmp_path / "full.mkv", n=40, audio=True)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size * 7 // 10])
    out = tmp_path / "out.mkv"
    assert cli([cut, out, "--factor", "2", "--codec", "ffv1"], synthesis_weights) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rrin: error:") and "stopped after frame" in err[0], err
    assert "of 3.333 s" in err[0]  # the track's declared end
    frames, times = decoded(out)  # the partial output is kept
    assert 3 <= len(frames) < 79 and len(frames) % 2 == 1
    assert times[-1] < Fraction(3)
    assert cli([clip, tmp_path / "whole.mkv", "--factor", "2", "--codec", "ffv1"], synthesis_weights) == 0


def stop_after(frames: int):
    """A ``progress`` hook that stops the run (as Ctrl-C would) after ``frames`` output frames."""
    def progress(done):
        if done >= frames:
            raise KeyboardInterrupt
    return progress


def test_resume_refuses_segments_made_with_other_weights_of_the_same_name(tmp_path):
    """The journal recorded the model by name ("None" for the default): after the weights
    behind the name changed (a new default shipped, a file retrained in place) a resumed run
    joined segments of both. It records the weights' digest now."""
    clip = make_clip(tmp_path / "in.mkv", n=8, codec="ffv1", pix_fmt="yuv444p")
    weights, out = tmp_path / "w.safetensors", tmp_path / "out.mkv"
    save_weights(make_tiny_model(seed=0), weights, half=False)
    job = ConvertJob(clip, out, factor=2, codec="ffv1", resume=True, segment_frames=2)
    with pytest.raises(KeyboardInterrupt):
        convert(job, weights, backend="eager", progress=stop_after(6))
    journal = parts_folder(out) / "journal.json"
    assert segments_done(journal) >= 1
    save_weights(make_tiny_model(seed=1), weights, half=False)  # other weights, same file
    with pytest.raises(InputError, match="belongs to a different job"):
        convert(job, weights, backend="eager")
    same = save_weights(make_tiny_model(seed=0), tmp_path / "copy.safetensors", half=False)
    assert convert(job, same, backend="eager").result.frames_resumed >= 2  # the same weights by another name resume
    assert len(decoded(out)[0]) == 15


def test_the_default_model_is_recorded_by_its_weights(tmp_path):
    clip = make_clip(tmp_path / "in.mkv", n=4, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    job = ConvertJob(clip, out, factor=2, codec="ffv1", resume=True, segment_frames=2)
    with pytest.raises(KeyboardInterrupt):
        convert(job, None, device="cpu", backend="eager", progress=stop_after(3))
    recorded = json.loads((parts_folder(out) / "journal.json").read_text())["fingerprint"]["model"]
    assert recorded == weights_digest(load_model(default_model_name("cpu")))
