"""Jobs that end early: SIGTERM and SIGHUP stop as Ctrl-C does, ``kill -9`` leaves nothing a
later run keeps, and a full disk is one line with the finished ``--resume`` segments kept.

The disk is really full: a tiny tmpfs is mounted where that is allowed (root with
CAP_SYS_ADMIN, as in this project's sandbox), which gives ENOSPC; the file size limit
(RLIMIT_FSIZE, EFBIG) runs everywhere.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rrin.cli import main
from rrin.inference.segments import parts_folder
from test_video import SRC, decoded, make_clip, run_cli


def wait_for(condition, child, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert child.poll() is None, f"the run ended before {what}: {child.stderr.read().decode()}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.005)


def partials(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*partial*"))


def writing(folder: Path):
    """Whether the run writing into ``folder`` has encoded frames into its partial file."""
    def check() -> bool:
        for path in partials(folder):
            try:
                if path.stat().st_size > 0:
                    return True
            except FileNotFoundError:
                pass
        return False
    return check


@pytest.mark.parametrize("sig,code,name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path, tiny_weights, sig, code, name):
    """They used to kill the process outright, leaving the hidden partial file behind."""
    clip = make_clip(tmp_path / "in.mkv", n=40, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    child = run_cli(clip, out, "--factor", "8", "--codec", "ffv1", "--model", tiny_weights, "--backend", "eager")
    wait_for(writing(tmp_path), child, "frames written")
    child.send_signal(sig)
    child.wait(60)
    assert child.returncode == code, child.stderr.read().decode()
    assert child.stderr.read().decode().strip() == f"rrin: interrupted ({name})"
    assert partials(tmp_path) == [] and not out.exists()


def test_sigterm_keeps_the_finished_segments_of_a_resumable_run(tmp_path, tiny_weights):
    clip = make_clip(tmp_path / "in.mkv", n=40, codec="ffv1", pix_fmt="yuv444p")
    out, journal = tmp_path / "out.mkv", parts_folder(tmp_path / "out.mkv") / "journal.json"
    options = ["--factor", "8", "--codec", "ffv1", "--model", tiny_weights, "--backend", "eager",
               "--resume", "--segment-frames", "8"]
    child = run_cli(clip, out, *options)
    wait_for(journal.is_file, child, "finished segment")
    child.send_signal(signal.SIGTERM)
    assert child.wait(60) == 143, child.stderr.read().decode()
    finished = json.loads(journal.read_text())["segments"]
    assert finished and sorted(p.name for p in journal.parent.iterdir()) == \
        ["journal.json", *(s["file"] for s in finished)]  # the unfinished segment is gone, no temporary files
    assert partials(tmp_path) == [] and not out.exists()  # (resuming from here: test_video.py, after Ctrl-C)


def test_a_later_run_removes_what_kill_9_left(tmp_path, tiny_weights):
    """``kill -9`` leaves the hidden partial file; no later run used to remove it."""
    clip = make_clip(tmp_path / "in.mkv", n=40, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    options = ["--factor", "8", "--codec", "ffv1", "--model", str(tiny_weights), "--backend", "eager"]
    child = run_cli(clip, out, *options)
    wait_for(writing(tmp_path), child, "frames written")
    child.kill()
    child.wait(60)
    assert child.returncode == -signal.SIGKILL
    (left,) = partials(tmp_path)
    assert f".{child.pid}-" in left.name
    short = make_clip(tmp_path / "short.mkv", n=3, codec="ffv1", pix_fmt="yuv444p")
    assert main(["interpolate", str(short), str(out), *options, "--factor", "2", "--quiet"]) == 0
    assert partials(tmp_path) == [] and len(decoded(out)[0]) == 5


# --- a full disk -----------------------------------------------------------------------------

def mount_tmpfs(folder: Path, *options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)], check=True,
                   capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 40 KiB tmpfs; skipped where mounting is not allowed."""
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        mount_tmpfs(folder, "size=40k")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', b'') or exc}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


COMMON = ["--factor", "4", "--codec", "ffv1", "--backend", "eager", "--quiet"]


@pytest.mark.parametrize("name", ["out.mkv", "frames"])
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, small_disk, synthesis_weights, capsys, name):
    """It was a 35-line PyAV traceback with exit code 1 (a frame folder: "cannot write" a
    temporary file, without the reason)."""
    clip = make_clip(tmp_path / "in.mkv", n=12, codec="ffv1", pix_fmt="yuv444p", audio=True)
    out = small_disk / name
    assert main(["interpolate", str(clip), str(out), *COMMON, "--model", str(synthesis_weights)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rrin: error: no space left on device while writing {out}"]
    assert list(small_disk.iterdir()) == []  # the partial output is gone, its space free again


def test_a_full_disk_keeps_the_finished_segments_for_resume(tmp_path, small_disk, synthesis_weights, capsys):
    clip = make_clip(tmp_path / "in.mkv", n=12, codec="ffv1", pix_fmt="yuv444p", audio=True)
    reference, out = tmp_path / "ref.mkv", small_disk / "out.mkv"
    args = [*COMMON, "--model", str(synthesis_weights)]
    assert main(["interpolate", str(clip), str(reference), *args]) == 0
    resume = ["interpolate", str(clip), str(out), *args, "--resume", "--segment-frames", "4"]
    assert main(resume) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rrin: error: no space left on device while writing "), err
    assert err[0].endswith(f"the finished segments stay in {parts_folder(out)}: free some space and rerun with --resume")
    finished = json.loads((parts_folder(out) / "journal.json").read_text())["segments"]
    assert 1 <= len(finished) < 12 and not out.exists()
    mount_tmpfs(small_disk, "remount", "size=4m")  # space freed
    assert main(resume) == 0
    frames, times = decoded(out)
    ref_frames, ref_times = decoded(reference)
    assert len(frames) == 45 and times == ref_times  # ffv1 is lossless: the same pixels
    assert all(np.array_equal(a, b) for a, b in zip(frames, ref_frames))
    assert sorted(p.name for p in small_disk.iterdir()) == ["out.mkv"]


def test_the_file_size_limit_is_one_line_too(tmp_path, synthesis_weights):
    """RLIMIT_FSIZE (EFBIG; Python ignores SIGXFSZ): the same path as a full disk, without root."""
    clip = make_clip(tmp_path / "in.mkv", n=12, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mkv"
    limit = 32 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    child = subprocess.run([sys.executable, "-m", "rrin", "interpolate", str(clip), str(out), *COMMON,
                            "--model", str(synthesis_weights)], preexec_fn=small_files, capture_output=True,
                           env=dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1"), timeout=300)
    err = child.stderr.decode().strip().splitlines()
    assert child.returncode == 2 and len(err) == 1, child.stderr.decode()
    assert err[0] == f"rrin: error: file too large for the file system or the file size limit while writing {out}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]
