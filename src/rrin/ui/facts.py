"""What the page shows before a job starts: the input's facts, the frames the job will make
and how long it should take.

The time estimate is seconds per new frame × new frames. Seconds per new frame come, in
order of preference, from this app's own measurements of the same model (a preview or a
finished job, scaled by pixel count: :class:`SpeedBook`) or, before any, from the model's
multiply-accumulates (:func:`rrin.model.flops.rrin_macs`) at a rough CPU throughput.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import InputError
from ..model.config import RRINConfig

__all__ = ["VideoFacts", "probe", "FramePlan", "plan_frames", "SpeedBook", "format_duration",
           "MAX_FACTOR", "MAX_FPS"]

#: The page's limits on what one click may ask for (the CLI has none).
MAX_FACTOR = 16
MAX_FPS = Fraction(1000)
#: Rough CPU throughput for a first estimate, FLOP/s (README's 2-core numbers: 100–170 G).
ROUGH_FLOPS = 100e9
#: Rough seconds per pixel of each output frame for decoding, DIS flows and encoding.
ROUGH_OVERHEAD = 1.5e-7


@dataclass(frozen=True)
class VideoFacts:
    """A video's size, rate, length and audio, as read by :func:`rrin.io.sources.open_source`.

    ``frames`` is the container's count (None when it does not say), ``duration`` seconds.
    """

    name: str
    width: int
    height: int
    frame_rate: Fraction
    frames: int | None
    duration: float | None
    audio: tuple[str, ...]
    pix_fmt: str

    def markdown(self) -> str:
        frames = f"{self.frames} frames" if self.frames else "frame count unknown"
        length = format_duration(self.duration) if self.duration is not None else "length unknown"
        audio = ", ".join(self.audio) if self.audio else "no audio"
        return (f"**{self.name}**: {self.width}×{self.height}, {float(self.frame_rate):.3f} fps, {frames}, "
                f"{length}, {audio} ({self.pix_fmt})")


def probe(path: str | Path, name: str | None = None) -> VideoFacts:
    """Open ``path`` with the library's reader and read its facts (no frames decoded).

    Raises :class:`InputError` for a missing, unreadable or video-less file.
    """
    from ..io.sources import open_source

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path.name} is a folder, not a video")
    with open_source(path, deep=False) as reader:
        container = reader.container
        frames = reader.frame_count
        duration = None
        if reader.stream.duration and reader.stream.time_base:
            duration = float(reader.stream.duration * reader.stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        elif frames:
            duration = frames / float(reader.frame_rate)
        audio = tuple(f"{s.codec_context.name} {s.codec_context.sample_rate} Hz" for s in container.streams.audio)
        return VideoFacts(name or path.name, reader.width, reader.height, reader.frame_rate, frames,
                          duration, audio, reader.pix_fmt)


@dataclass(frozen=True)
class FramePlan:
    """Frames in, out and newly made (``approximate`` when the input's count was guessed
    from its duration)."""

    frames_in: int
    frames_out: int
    new_frames: int
    approximate: bool = False


def plan_frames(facts: VideoFacts, factor: int | None, fps: Fraction | None) -> FramePlan:
    """The job's frame counts, as :func:`rrin.inference.convert.convert` computes its total:
    (n−1)·N+1 for ``factor``, ⌊(n−1)/rate·fps⌋+1 for ``fps``. Checks the page's limits."""
    if fps is None and (factor is None or not 2 <= factor <= MAX_FACTOR):
        raise InputError(f"the factor must be between 2 and {MAX_FACTOR}, got {factor}")
    if fps is not None and fps > MAX_FPS:
        raise InputError(f"{float(fps):g} fps is more than this page allows ({MAX_FPS}); use the command line")
    if fps is not None and fps < facts.frame_rate * Fraction(999, 1000):
        raise InputError(f"--fps {float(fps):g} is below the input's {float(facts.frame_rate):g} frames/s")
    count, approximate = facts.frames, False
    if not count:
        count = max(1, round((facts.duration or 0) * float(facts.frame_rate)))
        approximate = True
    if fps is None:
        out = (count - 1) * factor + 1
    else:
        out = int((count - 1) / facts.frame_rate * fps) + 1
    return FramePlan(count, out, max(out - count, 0), approximate)


def format_duration(seconds: float) -> str:
    """``1:02:03``, ``2:05`` or ``4.2 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _rough_seconds_per_frame(config: RRINConfig | None, width: int, height: int) -> float:
    from ..model.flops import rrin_macs, unet_macs

    config = config or RRINConfig()
    macs = 0
    if config.refine:
        macs = rrin_macs(config, height, width, 1)
        if config.flow == "dis":
            multiple = config.size_multiple
            h, w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
            macs -= unet_macs(6, 4, config.flow_depth, config.base_width, h, w)
    elif config.flow == "unet":
        multiple = config.size_multiple
        h, w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
        macs = unet_macs(6, 4, config.flow_depth, config.base_width, h, w)
    return 2 * macs / ROUGH_FLOPS + ROUGH_OVERHEAD * width * height


class SpeedBook:
    """Measured seconds per new frame and pixel, per model key (thread-safe).

    The latest measurement of a model wins; pixel counts scale it linearly.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_pixel: dict[str, float] = {}

    def record(self, key: str, width: int, height: int, new_frames: int, seconds: float) -> None:
        """``seconds`` spent making ``new_frames`` frames of ``width``×``height``."""
        if new_frames <= 0 or seconds <= 0:
            return
        with self._lock:
            self._per_pixel[key] = seconds / new_frames / (width * height)

    def estimate(self, key: str, config: RRINConfig | None, facts: VideoFacts, plan: FramePlan) -> tuple[float, bool]:
        """(seconds for the job, measured?) — measured when this app has timed ``key``."""
        with self._lock:
            per_pixel = self._per_pixel.get(key)
        pixels = facts.width * facts.height
        if per_pixel is not None:
            per_frame, measured = per_pixel * pixels, True
        else:
            per_frame, measured = _rough_seconds_per_frame(config, facts.width, facts.height), False
        encode = ROUGH_OVERHEAD / 3 * pixels * plan.frames_out
        return per_frame * plan.new_frames + encode, measured

    def describe(self, key: str, config: RRINConfig | None, facts: VideoFacts, plan: FramePlan) -> str:
        """One Markdown line: frames out and the estimate, saying where it comes from."""
        seconds, measured = self.estimate(key, config, facts, plan)
        about = "≈" if not plan.approximate else "roughly"
        source = ("measured on this machine" if measured
                  else "rough, from the network's size; **Preview** measures it on this machine")
        shown = format_duration(max(seconds, 0.1)) if math.isfinite(seconds) else "unknown"
        return (f"{plan.frames_in} → {about} {plan.frames_out} frames ({plan.new_frames} new); "
                f"time: {about} {shown} ({source})")
