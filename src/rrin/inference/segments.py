"""Resumable encoding: closed video segments plus a small journal.

A :class:`SegmentSink` encodes the output in independent segments (each starts with a
fresh encoder, so with a keyframe) under ``OUTPUT.rrin-parts/``: ``seg0000.nut``, … with
absolute pts. After each segment is closed, ``journal.json`` is rewritten atomically
with the finished segments, the number of output frames they hold and the pts of their
first frame (the container may shift a segment's timestamps; the join moves them back).
A rerun with the same settings skips the finished frames (the pipeline still decodes them,
but does not run the model on them) and re-encodes from the first unfinished segment. At
the end :func:`~rrin.io.concat.concat_segments` remuxes the packets into the output
and :func:`remove_parts` removes rrin's files from the folder. Encoding
is deterministic for the same frames and settings, so an interrupted-and-resumed run gives
the same decoded frames as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from ..io.concat import concat_segments
from ..io.video_writer import EncodeSettings, VideoWriter

__all__ = ["SegmentJournal", "SegmentSink", "assemble_segments", "parts_folder", "remove_parts"]

#: The names rrin writes in a parts folder: segments, the journal and its temporary copies.
_OWN_FILES = re.compile(r"seg\d{4,}\.nut|journal\.json|\.journal\..+\.partial\.json")


def parts_folder(output: Path) -> Path:
    """Where ``--resume`` keeps the segments of ``output``: ``OUTPUT.rrin-parts``."""
    output = Path(output)
    return output.with_name(output.name + ".rrin-parts")


def remove_parts(output: Path) -> None:
    """Remove the parts folder of ``output``: the files rrin writes there, then the folder
    if nothing else is left in it (a file someone else put there stays, and so does the
    folder)."""
    folder = parts_folder(output)
    if not folder.is_dir() or folder.is_symlink():
        return
    for entry in folder.iterdir():
        if _OWN_FILES.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # not empty: someone else's files
        pass


class SegmentJournal:
    """``journal.json`` in a parts folder: the job's fingerprint and its finished segments.

    One format for the one-process ``--resume`` path (:class:`SegmentSink`) and the
    cluster's driver: each segment is ``{"number", "file", "frames", "first_pts", …}``.
    Opening it keeps the recorded segments whose files exist (:attr:`done`, by number) and
    refuses a journal of another job (another fingerprint: input, options, model weights)
    with :class:`InputError` before anything is changed. :meth:`record` rewrites it
    atomically and flushes it to disk.
    """

    def __init__(self, folder: Path, fingerprint: dict, load: bool = True) -> None:
        self.folder, self.path, self.fingerprint = Path(folder), Path(folder) / "journal.json", fingerprint
        self.done: dict[int, dict] = {}
        if load and self.path.is_file():
            journal = json.loads(self.path.read_text())
            if journal.get("fingerprint") != fingerprint:
                raise InputError(f"{self.folder} belongs to a different job (other input, options or model); "
                                 "remove it or rerun with the original options")
            self.done = {s["number"]: s for s in journal["segments"] if (self.folder / s["file"]).exists()}

    def prefix(self) -> list[dict]:
        """The finished segments 0, 1, … up to the first one missing (what a one-process run
        continues from)."""
        segments = []
        while len(segments) in self.done:
            segments.append(self.done[len(segments)])
        return segments

    def keep(self, segments: list[dict]) -> None:
        """Forget every other segment, on disk too (their files are about to be rewritten)."""
        if len(segments) != len(self.done):
            self.done = {s["number"]: s for s in segments}
            self._write()

    def record(self, entry: dict) -> None:
        """Add the finished segment ``entry`` (its ``number`` replaces an earlier one)."""
        self.done[entry["number"]] = entry
        self._write()

    def _write(self) -> None:
        segments = [self.done[n] for n in sorted(self.done)]
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "segments": segments}, indent=1))
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())


def assemble_segments(folder: Path, segments: list[dict], path: Path, source: Path | None,
                      settings: EncodeSettings) -> list[str]:
    """Join the finished video ``segments`` of ``folder`` into ``path`` (a temporary name),
    copying ``source``'s audio and subtitles; returns warnings. The output stream gets the
    settings' time base and rate, as a one-pass output."""
    return concat_segments([Path(folder) / s["file"] for s in segments], path, source, settings,
                           [s.get("first_pts") for s in segments])


class SegmentSink:
    """A sink (``write``/``boundary``/``close``/``abort``) that encodes closed segments.

    Args:
        output: the final video path; parts live in ``OUTPUT.rrin-parts``.
        settings: the encode settings.
        fingerprint: a JSON-able description of the job (input, options, model); a journal
            with another fingerprint is refused rather than silently mixed.
        segment_frames: close a segment at the first pair boundary after this many frames.
    """

    def __init__(self, output: Path, settings: EncodeSettings, fingerprint: dict, segment_frames: int = 64) -> None:
        self.output = Path(output)
        self.settings = settings
        self.folder = parts_folder(self.output)
        self.segment_frames = segment_frames
        self.journal = SegmentJournal(self.folder, fingerprint)
        self.segments: list[dict] = self.journal.prefix()
        self.folder.mkdir(exist_ok=True)
        self.journal.keep(self.segments)  # segments after a missing one are made again
        self._writer: VideoWriter | None = None
        self._count = 0
        self.warnings: list[str] = []

    @property
    def done_frames(self) -> int:
        """Output frames held by finished segments (the pipeline skips them)."""
        return sum(s["frames"] for s in self.segments)

    def write(self, image: np.ndarray, pts: int) -> None:
        if self._writer is None:
            name = f"seg{len(self.segments):04d}.nut"
            self._writer = VideoWriter(self.folder / name, self.settings)
            self._name, self._count, self._first_pts = name, 0, int(pts)
        self._writer.write(image, pts)
        self._count += 1

    def boundary(self) -> None:
        """A pair boundary: close the segment if it is long enough."""
        if self._writer is not None and self._count >= self.segment_frames:
            self._close_segment()

    def _close_segment(self) -> None:
        self._writer.close()
        self._writer = None
        entry = {"number": len(self.segments), "file": self._name, "frames": self._count, "first_pts": self._first_pts}
        self.segments.append(entry)
        self.journal.record(entry)

    def close(self) -> None:
        if self._writer is not None:
            self._close_segment()

    def abort(self) -> None:
        """Drop the unfinished segment; finished ones and the journal stay for --resume."""
        if self._writer is not None:
            self._writer.abort()
            (self.folder / self._name).unlink(missing_ok=True)
            self._writer = None

    def assemble(self, path: Path, source: Path | None) -> list[str]:
        """Concatenate the segments into ``path`` (a temporary name); returns warnings.

        The output stream gets the settings' time base and rate, as a one-pass output."""
        return assemble_segments(self.folder, self.segments, path, source, self.settings)

    def remove(self) -> None:
        """Remove the parts folder (rrin's files in it; see :func:`remove_parts`)."""
        remove_parts(self.output)
