"""Joining closed video segments (``rrin.inference.segments``, the cluster's) into one file.

:func:`concat_segments` remuxes the segments' video packets in order, with the source's
audio and subtitles copied as :class:`~rrin.io.video_writer.VideoWriter` copies them, the
time base and frame rate a one-pass output has, each segment's timestamps moved back to the
pts its first frame was written with, and decode timestamps recomputed over the whole stream
(:func:`decode_timestamps`), so encoders with B-frames join cleanly.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InputError
from .codecs import encode_warnings
from .video_writer import EncodeSettings, _Muxer, shape_video

__all__ = ["concat_segments", "decode_timestamps"]


def _rescale(value: int, source: Fraction, target: Fraction) -> int:
    return round(Fraction(value) * source / target)


def _segment_pts(segment: Path, time_base: Fraction) -> np.ndarray:
    """The pts of a segment's video packets in decode order, in ``time_base`` ticks."""
    with av.open(str(segment)) as container:
        stream = container.streams.video[0]
        source = Fraction(stream.time_base)
        values = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None:
                raise InputError(f"{segment}: a video packet without a timestamp")
            values.append(_rescale(packet.pts, source, time_base))
    return np.asarray(values, dtype=np.int64)


def decode_timestamps(pts: np.ndarray) -> np.ndarray:
    """Decode timestamps for packets in decode order with presentation times ``pts``.

    The ``j``-th packet gets the ``(j − D)``-th smallest pts, where ``D`` (the reorder
    delay) is the least value that keeps every dts ≤ its pts; the first ``D`` packets get
    times before the first pts, one smallest frame step apart. The result increases
    strictly (pts are distinct), as muxers require. Segments encoded separately each
    start their decode times ``D`` frames early, so their own dts overlap at the joins;
    recomputing them over the whole stream removes the overlap.
    """
    count = len(pts)
    if count == 0:
        return pts.copy()
    order = np.argsort(pts, kind="stable")
    ordered = pts[order]
    if count > 1 and np.any(np.diff(ordered) == 0):
        raise InputError("the segments hold two frames with the same timestamp")
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    delay = int(max(0, np.max(np.arange(count) - rank)))
    step = int(np.min(np.diff(ordered))) if count > 1 else 1
    dts = np.empty(count, dtype=np.int64)
    dts[delay:] = ordered[:count - delay]
    dts[:delay] = ordered[0] - (delay - np.arange(delay)) * step
    return dts


def concat_segments(segments: list[Path], path: str | os.PathLike, source: str | os.PathLike | None,
                    settings: EncodeSettings | None = None, first_pts: list[int | None] | None = None) -> list[str]:
    """Remux the video packets of closed ``segments`` into ``path`` with the source's
    audio/subtitles; returns the warnings.

    ``settings`` gives the output stream the time base and frame rate a one-pass
    :class:`VideoWriter` would (without it, the first segment's). ``first_pts`` (in
    ``settings.time_base`` ticks, one per segment, ``None`` where unknown) is the pts the
    segment's first frame was written with: a container may shift a segment's timestamps
    (NUT and Matroska move them so that no decode time is negative, which encoders with
    B-frames produce), and each segment is moved back by the difference. Decode times are
    recomputed over the whole stream (:func:`decode_timestamps`).
    """
    segments = [Path(s) for s in segments]
    if not segments:
        raise InputError("no segments to join")
    with av.open(str(segments[0])) as first:
        template_tb = Fraction(first.streams.video[0].time_base)
    time_base = settings.time_base if settings is not None else template_tb
    parts = []
    for k, segment in enumerate(segments):
        pts = _segment_pts(segment, time_base)
        start = first_pts[k] if first_pts is not None and k < len(first_pts) else None
        if start is not None and len(pts):
            pts = pts + (int(start) - int(pts.min()))
        parts.append(pts)
    all_pts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    all_dts = decode_timestamps(all_pts)
    warnings = encode_warnings(settings, Path(path).suffix.lower()) if settings is not None else []

    def add_video(container):
        with av.open(str(segments[0])) as first:
            out = container.add_stream_from_template(first.streams.video[0], opaque=True)
        out.time_base = time_base
        if settings is not None:
            out.codec_context.framerate = settings.rate  # becomes the stream's average rate
            shape_video(out, settings, warnings)  # segments (NUT) do not carry the display matrix
        return out

    muxer = _Muxer(Path(path), source, add_video)
    muxer.warnings[:0] = warnings
    try:
        out = muxer.video
        index = 0
        for segment in segments:
            with av.open(str(segment)) as container:
                stream = container.streams.video[0]
                segment_tb = Fraction(stream.time_base)
                for packet in container.demux(stream):
                    if packet.size == 0:
                        continue
                    duration = packet.duration
                    packet.time_base = time_base
                    packet.pts, packet.dts = int(all_pts[index]), int(all_dts[index])
                    packet.duration = _rescale(duration, segment_tb, time_base) if duration else 0
                    index += 1
                    muxer.pump(float(packet.pts * time_base))
                    packet.stream = out
                    muxer.container.mux(packet)
        muxer.finish()
    except BaseException:
        muxer.close()
        raise
    return muxer.warnings
