"""Atomic writes: a finished output never replaces a file that appeared meanwhile (two runs
to the same output) unless ``--overwrite``; what killed processes left behind is removed by
the next run of the same output, and nothing else is."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rrin.errors import InputError
from rrin.inference.convert import ConvertJob, convert
from rrin.io import atomic
from rrin.io.atomic import atomic_path, check_writable, remove_stale_partials, rename_new, temp_folder
from test_video import decoded, make_clip


@pytest.fixture(params=["renameat2", "link"])
def strategy(request, monkeypatch):
    """Both ways of renaming without replacing: Linux's renameat2, and the hard-link
    fallback (file systems or systems without it)."""
    if request.param == "link":
        monkeypatch.setattr(atomic, "_renameat2_noreplace", lambda source, target: False)
    return request.param


def test_a_file_that_appears_while_writing_is_kept(tmp_path, strategy):
    path = tmp_path / "out.bin"
    with pytest.raises(InputError, match="appeared while rrin was writing it.*--overwrite"):
        with atomic_path(path, overwrite=False) as tmp:
            tmp.write_bytes(b"mine")
            path.write_bytes(b"theirs")  # another run finished first
    assert path.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary file left
    with atomic_path(path, overwrite=True) as tmp:  # --overwrite: replaced
        tmp.write_bytes(b"mine")
    assert path.read_bytes() == b"mine"
    with atomic_path(tmp_path / "new.bin", overwrite=False) as tmp:  # nothing there: written as usual
        tmp.write_bytes(b"new")
    assert (tmp_path / "new.bin").read_bytes() == b"new"


def test_a_folder_is_not_renamed_onto_one_that_appeared(tmp_path, strategy):
    for existing in ("empty", "full", "file"):  # os.rename would replace an empty folder silently
        target = tmp_path / existing
        if existing == "file":
            target.write_text("theirs")
        else:
            target.mkdir()
            if existing == "full":
                (target / "000000.png").write_text("theirs")
        new = temp_folder(target)
        with pytest.raises(InputError, match="appeared while rrin was writing it"):
            rename_new(new, target)
        assert new.is_dir()  # the caller decides what to do with it
        new.rmdir()
    assert (tmp_path / "full" / "000000.png").read_text() == "theirs" and (tmp_path / "file").read_text() == "theirs"
    new = temp_folder(tmp_path / "free")
    rename_new(new, tmp_path / "free")
    assert (tmp_path / "free").is_dir() and not new.exists()


def appear_on_first_frame(path, folder=False):
    """A ``progress`` hook that makes ``path`` while the job runs (another run finishing)."""
    def progress(done):
        if not path.exists():
            if folder:
                path.mkdir()
                (path / "000000.png").write_text("theirs")
            else:
                path.write_text("theirs")
    return progress


@pytest.mark.parametrize("suffix", [".mkv", ""])
def test_two_runs_to_the_same_output_the_later_one_does_not_replace_it(tmp_path, synthesis_weights, suffix):
    """Before, the check was only at the start: the later finisher replaced the other's
    file (or moved its frames into the other's folder) without --overwrite."""
    clip = make_clip(tmp_path / "in.mkv", n=4, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / f"out{suffix}"
    job = ConvertJob(clip, out, factor=2, codec="ffv1")
    with pytest.raises(InputError, match=f"{out} appeared while rrin was writing it"):
        convert(job, synthesis_weights, backend="eager", progress=appear_on_first_frame(out, folder=not suffix))
    theirs = out / "000000.png" if not suffix else out
    assert theirs.read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv", out.name]  # no temporary file or folder
    out.unlink() if suffix else (theirs.unlink(), out.rmdir())
    convert(ConvertJob(clip, out, factor=2, codec="ffv1", overwrite=True), synthesis_weights, backend="eager",
            progress=appear_on_first_frame(out, folder=not suffix))
    if suffix:
        assert len(decoded(out)[0]) == 7  # --overwrite: the new output replaced it
    else:
        assert len(list(out.glob("*.png"))) == 7


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_partials_of_dead_processes_are_removed_and_nothing_else(tmp_path):
    host = atomic._host_tag()
    dead, live = dead_pid(), os.getpid()
    names = {
        f".out.{dead}-{host}.0123abcd.partial.mp4": False,      # a killed run's video: removed
        f".out.mp4.{dead}-{host}.0123abcd.partial": False,      # its frame folder form: removed
        f".out.{live}-{host}.0123abcd.partial.mp4": True,       # a live process's: kept
        f".out.{dead}-abcdef.0123abcd.partial.mp4": True,       # another host's (shared storage): kept
        f".other.{dead}-{host}.0123abcd.partial.mp4": True,     # another output's: kept
        f".out.{dead}-{host}.0123abcd.partial.mkv": True,       # another extension, so another output
        ".out.0123abcd.partial.mp4": True,                      # no owner in the name: not ours to judge
        "out.partial.mp4": True,
    }
    for name in names:
        if name.endswith(".partial"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "000000.png").write_text("x")
        else:
            (tmp_path / name).write_text("x")
    assert sorted(p.name for p in remove_stale_partials(tmp_path / "out.mp4")) == sorted(
        name for name, kept in names.items() if not kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(name for name, kept in names.items() if kept)


def test_check_writable_removes_a_killed_runs_partial(tmp_path):
    with atomic_path(tmp_path / "w.bin") as tmp:
        leftover = tmp.with_name(tmp.name.replace(f".{os.getpid()}-", f".{dead_pid()}-"))
        tmp.rename(leftover)  # as if a killed process had written it
        tmp.write_bytes(b"x")
    assert leftover.exists()
    check_writable(tmp_path / "w.bin", overwrite=True)
    assert not leftover.exists() and (tmp_path / "w.bin").exists()
