"""How long a conversion takes on this machine: the estimate before a job and the countdown
during one.

A job's time is a start-up (loading the model, the first pair) plus seconds per new frame
(decoding, flows, the network, encoding, all as the pipeline overlaps them). Both are measured
on this machine by running the real conversion on the first frames of the chosen video
(:meth:`rrin.ui.jobs.JobRunner.measure`, when a file is chosen) and by every finished job;
:class:`SpeedBook` keeps them per model and frame size. A frame size never measured is scaled
from the nearest measured one by its pixel count; before any measurement the estimate is a
rough one from the network's multiply-accumulates (:func:`rough_speed`).

:class:`Stopwatch` is the conversion's progress hook: it times the start-up and the frames,
stops the job when asked (cancel, or a measurement that has seen enough) and reports frames
done and the time left, starting from the estimate and moving to the observed pace as the job
runs, so that the countdown does not start wild. The first pair is start-up, not pace: it
carries the warm-up (the model's first call, the first flows), often twice a later pair.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..model.config import RRINConfig

__all__ = ["Speed", "SpeedBook", "Stopwatch", "rough_speed", "Stopped", "ROUGH_FLOPS"]

#: Rough CPU throughput for an estimate before any measurement, FLOP/s (README: 100–170 G).
ROUGH_FLOPS = 100e9
#: Rough seconds per pixel of each new frame for decoding, DIS flows and encoding.
ROUGH_OVERHEAD = 2e-7
ROUGH_SETUP = 3.0


@dataclass(frozen=True)
class Speed:
    """A measured (or rough) pace at ``width``×``height``: ``setup`` seconds before the first
    frame, then ``per_new_frame`` seconds per new frame; ``measured`` False for a rough one."""

    width: int
    height: int
    setup: float
    per_new_frame: float
    measured: bool = True

    def at(self, width: int, height: int) -> "Speed":
        """This pace scaled to another frame size by its pixel count."""
        scale = (width * height) / max(self.width * self.height, 1)
        return Speed(width, height, self.setup, self.per_new_frame * scale, self.measured)

    def seconds(self, new_frames: int) -> float:
        return self.setup + self.per_new_frame * max(new_frames, 0)


def rough_speed(config: RRINConfig | None, width: int, height: int) -> Speed:
    """A guess from the network's size, for when nothing was measured yet."""
    from ..model.flops import rrin_macs

    macs = rrin_macs(config or RRINConfig(), height, width, 1)  # counts no flow U-Net for DIS flows
    return Speed(width, height, ROUGH_SETUP, 2 * macs / ROUGH_FLOPS + ROUGH_OVERHEAD * width * height, measured=False)


class SpeedBook:
    """Measured paces per model key and frame size (thread-safe); the latest wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._speeds: dict[str, dict[tuple[int, int], Speed]] = {}

    def record(self, key: str, speed: Speed) -> None:
        if speed.per_new_frame <= 0 and speed.setup <= 0:
            return
        with self._lock:
            self._speeds.setdefault(key, {})[(speed.width, speed.height)] = speed

    def lookup(self, key: str, width: int, height: int) -> tuple[Speed | None, bool]:
        """(the pace of ``key`` at this size, exact?): the one measured at this size, or the
        nearest one in pixel count scaled to it; (None, False) if ``key`` was never timed."""
        with self._lock:
            known = dict(self._speeds.get(key, {}))
        if (width, height) in known:
            return known[(width, height)], True
        if not known:
            return None, False
        pixels = width * height
        nearest = min(known.values(), key=lambda s: abs(s.width * s.height - pixels))
        return nearest.at(width, height), False


class Stopped(Exception):
    """Raised inside a conversion by :class:`Stopwatch` to end it early."""


class Stopwatch:
    """A conversion's ``progress`` hook (``convert`` sets :attr:`total`, the output frames),
    which tells the start-up (up to the end of the first pair, warm-up included) from the
    steady pace after it.

    Args:
        report: ``report(done, total, seconds_left)``, at most 4 times a second (and on
            the last frame); None for none.
        stop: called on every frame; raises what it returns (e.g. the cancel event's
            :class:`~rrin.ui.jobs.Cancelled`, or :class:`Stopped`).
        prior: the estimated pace, which the countdown starts from.
        pair_frames: output frames per input pair (N for ×N); the first frame is out
            before the first pair, the first pair's are out at ``1 + pair_frames``.
        new_per_pair: new frames per input pair.
    """

    def __init__(self, report: Callable | None = None, stop: Callable[["Stopwatch"], BaseException | None] | None = None,
                 prior: Speed | None = None, pair_frames: float = 2.0, new_per_pair: float = 1.0) -> None:
        self.report, self.stop, self.prior = report, stop, prior
        self.pair_frames, self.new_per_pair = max(pair_frames, 1.0), max(new_per_pair, 0.0)
        self.total: int | None = None
        self.started = time.monotonic()
        self.first_pair: tuple[float, int] | None = None  # (time, frames) when the first pair was out
        self.last: tuple[float, int] | None = None
        self._reported = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.first_pair is None and done >= 1 + self.pair_frames - 1e-9:
            self.first_pair = (now, done)
        self.last = (now, done)
        if self.stop is not None:
            reason = self.stop(self)
            if reason is not None:
                raise reason
        if self.report is not None and (now - self._reported >= 0.25 or done == self.total):
            self._reported = now
            self.report(done, self.total, self.seconds_left())

    def steady(self) -> tuple[float, float]:
        """(seconds, input pairs) since the end of the first pair."""
        if self.first_pair is None or self.last is None:
            return 0.0, 0.0
        return self.last[0] - self.first_pair[0], (self.last[1] - self.first_pair[1]) / self.pair_frames

    def seconds_per_pair(self) -> float | None:
        """The steady pace (None: fewer than one pair after the first)."""
        seconds, pairs = self.steady()
        return seconds / pairs if pairs >= 1 - 1e-9 and seconds > 0 else None

    def seconds_left(self) -> float | None:
        """The time left: from the estimate at first, from the pace seen as the job goes on
        (all of it once a fifth of the job is past the first pair)."""
        if not self.total or self.last is None:
            return None
        left_pairs = max(self.total - self.last[1], 0) / self.pair_frames
        seen = self.seconds_per_pair()
        prior = self.prior.per_new_frame * self.new_per_pair if self.prior is not None else None
        if prior is None or prior <= 0:
            return left_pairs * seen if seen is not None else None
        if self.first_pair is None:  # still starting: the estimate, counted down
            elapsed = time.monotonic() - self.started
            return max(self.prior.seconds(round(self.total / self.pair_frames * self.new_per_pair)) - elapsed,
                       left_pairs * prior)
        if seen is None:
            return left_pairs * prior
        weight = min(1.0, self.steady()[1] * self.pair_frames / max(0.2 * self.total, 2 * self.pair_frames))
        return left_pairs * ((1 - weight) * prior + weight * seen)

    def speed(self, width: int, height: int) -> Speed | None:
        """The pace this conversion showed: start-up and steady pace after two pairs; after
        one, that pair's time with the start-up as the pace (on the slow side); None before."""
        if self.first_pair is None or self.new_per_pair <= 0:
            return None
        per_pair = self.seconds_per_pair()
        if per_pair is None:
            return Speed(width, height, 0.0, (self.first_pair[0] - self.started) / self.new_per_pair)
        setup = max(self.first_pair[0] - self.started - per_pair, 0.0)
        return Speed(width, height, setup, per_pair / self.new_per_pair)
