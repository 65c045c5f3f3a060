"""Cutting a conversion into segments that separate processes can make: the plan.

The plan is made on the driver, before any frame is interpolated, from the input's
timestamps alone (a video's packet timestamps are read without decoding; a folder's frames
are numbered), or, with ``--dedup``, from a decoding pass that computes the same scene
thumbnails the one-process pipeline does. It pairs the frames with the pipeline's own
:class:`~rrin.inference.pairing.Pairing` (a duplicate joins the span of the previous kept
frame; each pair's output frames from :mod:`~rrin.inference.schedule`) and cuts the
sequence of pairs into segments of about ``segment_frames`` output frames, always between
two pairs.

A segment reads input frames ``first`` … ``last``: ``first`` is the first frame of its first
pair and ``last`` the second frame of its last pair, which is also the ``first`` of the next
segment. So a task sees the frame before each of its pairs and takes the same scene-cut
and duplicate decisions as one process would; only the last segment writes the final
output frame(s). No model, no Ray: pure bookkeeping, tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Iterator

import numpy as np

from ..errors import InputError
from ..io.sources import FrameFolderReader
from .pairing import Pair, Pairing
from .pipeline import InterpolateOptions
from .scenes import thumbnail

__all__ = ["SourceFrame", "Segment", "Plan", "source_frames", "plan_segments"]


@dataclass(frozen=True)
class SourceFrame:
    """One input frame as the planner sees it: ``index`` in presentation order, ``pts`` in
    the input's time base, ``timestamp`` in seconds and, with ``--dedup`` only, the (36, 64)
    float32 scene ``thumb``."""

    index: int
    pts: int
    timestamp: Fraction
    thumb: np.ndarray | None = None


@dataclass(frozen=True)
class Segment:
    """One unit of work: read input frames ``first`` … ``last`` (their ``pts``, in order),
    write output frames ``out_first`` … ``out_first + out_frames − 1``. ``final``: the last
    segment, which also writes the last input frame's output frame(s)."""

    number: int
    first: int
    pts: tuple[int, ...]
    out_first: int
    out_frames: int
    final: bool

    @property
    def last(self) -> int:
        return self.first + len(self.pts) - 1

    @property
    def name(self) -> str:
        return f"seg{self.number:04d}"

    def describe(self) -> str:
        return f"segment {self.number} (input frames {self.first}-{self.last})"


@dataclass(frozen=True)
class Plan:
    """The segments in output order and the totals: input and output frames, duplicates
    dropped (counted only with ``--dedup``), the first frame's ``start`` time and ``pts``."""

    segments: tuple[Segment, ...]
    frames_in: int
    frames_out: int
    duplicates: int
    start: Fraction
    first_pts: int


def source_frames(reader, dedup: bool) -> Iterator[SourceFrame]:
    """The input's frames for planning, from an open ``VideoReader`` or ``FrameFolderReader``.

    Without ``dedup`` nothing is decoded: a video's video packets give the timestamps
    (sorted into presentation order), a folder's files are numbered. With ``dedup`` every
    frame is decoded once for its thumbnail. Raises :class:`InputError` for what a segment
    could not reproduce exactly: packets without timestamps, repeated timestamps, a video
    that does not decode (or, judged by its packets, would not decode) to its end.
    """
    if dedup:
        for frame in reader:
            yield SourceFrame(frame.index, frame.pts, frame.timestamp, thumbnail(frame.image))
        if reader.error:
            raise InputError(f"{reader.path}: {reader.error}; --cluster needs an input that decodes to its end")
        return
    if isinstance(reader, FrameFolderReader):
        for index in range(len(reader.files)):
            yield SourceFrame(index, index, index * reader.time_base)
        return
    stamps = []
    for packet in reader.container.demux(reader.stream):
        if packet.size == 0:
            continue
        if packet.pts is None:
            raise InputError(f"{reader.path} has video packets without timestamps: convert it without --cluster")
        stamps.append(int(packet.pts))
    stamps.sort()
    short = reader.ends_early(stamps[-1] if stamps else None, len(stamps))
    if short:
        raise InputError(f"{reader.path}: {short}; --cluster needs an input that decodes to its end")
    for index, pts in enumerate(stamps):
        if index and pts == stamps[index - 1]:
            raise InputError(f"{reader.path} has two video frames at pts {pts}: convert it without --cluster")
        yield SourceFrame(index, pts, pts * reader.time_base)


def plan_segments(frames: Iterable[SourceFrame], options: InterpolateOptions, segment_frames: int) -> Plan:
    """Pair ``frames`` as the pipeline does and cut the pairs into segments.

    A segment is closed after the first pair that brings it to ``segment_frames`` output
    frames or more, except after the last pair: the last segment always holds at least one
    pair and the final frame(s).
    """
    if segment_frames < 1:
        raise InputError(f"--segment-frames must be at least 1, got {segment_frames}")
    pairing = Pairing(options)
    pairs: list[tuple[int, int, int, int]] = []  # (first input, second input, first output, outputs)
    all_pts: list[int] = []

    def add(pair: Pair | None) -> None:
        if pair is not None:
            planned = pair.planned
            pairs.append((pair.a.index, pair.b.index, planned[0].index if planned else -1, len(planned)))

    for frame in frames:
        all_pts.append(frame.pts)
        add(pairing.add(frame))
    last_pair, tail = pairing.finish()
    add(last_pair)

    segments: list[Segment] = []
    first, out_first, count = None, -1, 0
    for number, (a, b, out, frames_made) in enumerate(pairs):
        if first is None:
            first, out_first, count = a, -1, 0
        if frames_made and out_first < 0:
            out_first = out
        count += frames_made
        final = number == len(pairs) - 1
        if final:
            if tail and out_first < 0:
                out_first = tail[0].index
            count += len(tail)
        if count >= segment_frames or final:
            end = b if not final else len(all_pts) - 1
            segments.append(Segment(len(segments), first, tuple(all_pts[first:end + 1]), max(out_first, 0), count, final))
            first = None
    return Plan(tuple(segments), len(all_pts), sum(s.out_frames for s in segments), pairing.duplicates,
                pairing.start, all_pts[0])
