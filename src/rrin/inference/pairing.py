"""Which input frames are paired, and the output frames each pair makes: the one planner
both :func:`~rrin.inference.pipeline.interpolate_stream` (as it decodes) and the cluster's
:func:`~rrin.inference.cluster_plan.plan_segments` (before anything is decoded) use, so the
two cannot plan differently.

Frames come one at a time, in presentation order; each needs ``index``, ``pts``,
``timestamp`` (seconds) and, with ``--dedup``, ``thumb`` (the scene thumbnail). A frame no
more different from the previous kept one than ``options.dedup`` is a duplicate: it is
dropped and the pair it belongs to spans one more input interval. At the end, a trailing
run of duplicates makes one last pair (to its last frame) and the last frame gets its own
output frame(s) (:func:`~rrin.inference.schedule.factor_last` / ``fps_last``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from . import schedule
from .scenes import difference

if TYPE_CHECKING:
    from .pipeline import InterpolateOptions

__all__ = ["Pair", "Pairing"]


@dataclass(frozen=True)
class Pair:
    """Input frames ``a`` and ``b`` (``span`` input intervals apart: more than 1 across
    dropped duplicates) and the output frames they make, in order."""

    a: Any
    b: Any
    span: int
    planned: list[schedule.PlannedFrame]


class Pairing:
    """Pairs frames as they are :meth:`add`-ed and plans each pair's output frames.

    Args:
        options: the conversion's ``factor``/``fps`` and ``dedup``.
        start: the timestamp of the input's first frame (``--fps`` slots count from it);
            default: the first frame added. A range cut from the middle of an input passes
            the input's.
        final: ``False`` for a range that ends before the input does: :meth:`finish` then
            plans neither the trailing-duplicates pair nor the last frame's output.
    """

    def __init__(self, options: "InterpolateOptions", start: Fraction | None = None, final: bool = True) -> None:
        self.options, self.start, self.final = options, start, final
        self.anchor = None  # the last kept frame: the first frame of the next pair
        self.frames_in = 0
        self.duplicates = 0
        self._last_dup = None
        self._span = 1

    def add(self, frame) -> Pair | None:
        """Take the next frame; returns the pair it closes, or None (the first frame, or a
        duplicate)."""
        self.frames_in += 1
        if self.anchor is None:
            self.anchor = frame
            self.start = frame.timestamp if self.start is None else self.start
            return None
        dedup = self.options.dedup
        if dedup is not None and difference(self.anchor.thumb, frame.thumb) <= dedup:
            self.duplicates += 1
            self._span += 1
            self._last_dup = frame
            return None
        pair = self._plan(self.anchor, frame, self._span)
        self.anchor, self._span, self._last_dup = frame, 1, None
        return pair

    def finish(self) -> tuple[Pair | None, list[schedule.PlannedFrame]]:
        """After the last frame: the trailing-duplicates pair (or None) and the last kept
        frame's own output frames (:attr:`anchor` is that frame). :class:`InputError` for
        fewer than 2 frames."""
        if self.anchor is None or self.frames_in < 2:
            raise InputError(f"the input has {self.frames_in} frame(s): at least 2 are needed")
        if not self.final:
            return None, []
        pair = None
        if self._last_dup is not None:  # a trailing run of duplicates: span − 1 intervals to its last frame
            pair = self._plan(self.anchor, self._last_dup, self._span - 1)
            self.anchor = self._last_dup
        opts, anchor = self.options, self.anchor
        if opts.factor is not None:
            tail = schedule.factor_last(anchor.index, anchor.pts, opts.factor)
        else:
            tail = schedule.fps_last(anchor.index, anchor.timestamp, self.start, opts.fps)
        return pair, tail

    def _plan(self, a, b, span: int) -> Pair:
        opts = self.options
        if opts.factor is not None:
            planned = schedule.factor_pair(a.index, a.pts, b.pts, opts.factor, span)
        else:
            if b.timestamp <= a.timestamp:
                raise InputError(f"input timestamps do not increase at frame {b.index}")
            planned = schedule.fps_pair(a.index, a.timestamp, b.timestamp, self.start, opts.fps)
        return Pair(a, b, span, planned)
