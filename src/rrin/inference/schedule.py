"""Which output frame is made from which input frames, at which time step ``t``.

Pure functions over exact timestamps (:class:`fractions.Fraction` seconds or stream ticks);
no decoding, no model. The pipeline asks for the plan one input pair at a time, so the
schedule streams: it never needs the whole video's timestamps.

Two modes:

* ``--factor N`` (:func:`factor_pair`): input frame k becomes output frame k·N and the pair
  (k, k+1) contributes N frames at t = 0, 1/N, …, (N−1)/N (t = 0 is input frame k itself).
  For n inputs the output holds exactly (n−1)·N + 1 frames. The output timestamp of the
  frame at t is ``pts_k + t·(pts_{k+1} − pts_k)`` — on a time base N times finer than the
  input's, this is an exact integer, so variable-frame-rate input keeps its rhythm.
* ``--fps F`` (:func:`fps_pair`): output frame m lies at ``start + m/F`` seconds. It is made
  from the input pair whose real timestamps surround it, at
  ``t = (T − T_k) / (T_{k+1} − T_k)``. An output frame within ``snap`` output periods of an
  input frame reuses that input frame unchanged (``t = 0``). With the default ``snap = ½``
  each input frame is shown once, in the output slot nearest to it (a timing error of at most
  half an output period), and every other slot is interpolated at its exact time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError

__all__ = ["PlannedFrame", "factor_pair", "factor_last", "fps_pair", "fps_last", "plan", "parse_rate"]


@dataclass(frozen=True)
class PlannedFrame:
    """One output frame: ``index`` in the output, its ``pts`` (output time-base ticks),
    the first input frame ``source`` of its pair and the time step ``t`` in [0, 1)
    (0 means: input frame ``source`` itself, no model call)."""

    index: int
    pts: int
    source: int
    t: float

    @property
    def is_copy(self) -> bool:
        return self.t == 0.0


def parse_rate(text: str | float | Fraction) -> Fraction:
    """A frame rate from ``"60"``, ``"23.976"``, ``"24000/1001"`` or a number; > 0.

    Decimal forms of the NTSC rates (23.976, 29.97, 59.94, 119.88) become their exact
    ``N·1000/1001`` values.
    """
    try:
        rate = Fraction(str(text)) if not isinstance(text, Fraction) else text
    except (ValueError, ZeroDivisionError):
        raise InputError(f"not a frame rate: {text!r}") from None
    for base in (24, 30, 60, 120, 48, 240):
        ntsc = Fraction(base * 1000, 1001)
        if abs(rate - ntsc) < Fraction(1, 200) and rate != base:
            rate = ntsc
            break
    if rate <= 0:
        raise InputError(f"frame rate must be positive, got {text}")
    return rate


def factor_pair(k: int, pts0: int, pts1: int, factor: int, span: int = 1) -> list[PlannedFrame]:
    """The ``factor`` output frames of input pair (k, k+1), input stamps ``pts0 < pts1``.

    Output pts are in ticks of (input time base / factor): ``pts0·N + j·(pts1 − pts0)``.
    ``span`` > 1 when the second frame is input k + span (the frames between were dropped
    as duplicates): the pair then yields span·N frames at t = j / (span·N).
    """
    if factor < 2:
        raise InputError(f"--factor must be at least 2, got {factor}")
    count = factor * span
    return [PlannedFrame(k * factor + j, pts0 * factor + round(Fraction(j * (pts1 - pts0) * factor, count)), k, j / count)
            for j in range(count)]


def factor_last(k: int, pts: int, factor: int) -> list[PlannedFrame]:
    """The final output frame: the last input frame ``k`` itself."""
    return [PlannedFrame(k * factor, pts * factor, k, 0.0)]


def _slots(lo: Fraction, hi: Fraction) -> range:
    """Output indices m with lo ≤ m < hi (lo, hi in output periods)."""
    return range(max(0, math.ceil(lo)), max(0, math.ceil(hi)))


def fps_pair(k: int, time0: Fraction, time1: Fraction, start: Fraction, fps: Fraction,
             snap: Fraction = Fraction(1, 2)) -> list[PlannedFrame]:
    """Output frames of the pair (k, k+1) at input times ``time0 < time1`` (seconds).

    The pair owns the output slots m with ``time0 − snap/F ≤ start + m/F < time1 − snap/F``;
    pts are in ticks of 1/F from ``start``.
    """
    u0, u1 = (time0 - start) * fps, (time1 - start) * fps
    frames = []
    for m in _slots(u0 - snap, u1 - snap):
        if m < u0 + snap:
            t = 0.0
        else:
            t = float((Fraction(m) - u0) / (u1 - u0))
        frames.append(PlannedFrame(m, m, k, t))
    return frames


def fps_last(k: int, time: Fraction, start: Fraction, fps: Fraction, snap: Fraction = Fraction(1, 2)) -> list[PlannedFrame]:
    """The slots at the last input frame (within ``snap`` periods): copies of frame k."""
    u = (time - start) * fps
    return [PlannedFrame(m, m, k, 0.0) for m in _slots(u - snap, u + snap)]


def plan(times: list[Fraction], factor: int | None = None, fps: Fraction | None = None,
         time_base: Fraction | None = None) -> list[PlannedFrame]:
    """The whole schedule for input ``times`` in seconds (for tests and dry runs).

    With ``factor``, ``time_base`` (default 1/1000 s) turns ``times`` into integer pts.
    """
    if len(times) < 2:
        raise InputError(f"need at least 2 input frames, got {len(times)}")
    frames: list[PlannedFrame] = []
    if factor is not None:
        tb = time_base or Fraction(1, 1000)
        pts = [int(t / tb) for t in times]
        for k in range(len(times) - 1):
            frames += factor_pair(k, pts[k], pts[k + 1], factor)
        return frames + factor_last(len(times) - 1, pts[-1], factor)
    if fps is None:
        raise InputError("give a factor or a frame rate")
    for k in range(len(times) - 1):
        frames += fps_pair(k, times[k], times[k + 1], times[0], fps)
    return frames + fps_last(len(times) - 1, times[-1], times[0], fps)
