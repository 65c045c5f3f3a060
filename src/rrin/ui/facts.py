"""What the page shows before a job starts: the input's facts and the frames the job will
make (the time it takes: :mod:`.speed`)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import InputError
from ..inference.job import expected_frames
from .messages import PlainError

__all__ = ["VideoFacts", "probe", "FramePlan", "plan_frames", "format_duration", "MAX_FACTOR", "MAX_FPS"]

#: The page's limits on what one click may ask for (the CLI has none).
MAX_FACTOR = 16
MAX_FPS = Fraction(1000)


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
        """One line for the page: size, frame rate, frames, length, sound."""
        frames = f"{self.frames} frames" if self.frames else "frame count unknown"
        length = format_duration(self.duration) if self.duration is not None else "length unknown"
        audio = f"sound ({', '.join(self.audio)})" if self.audio else "no sound"
        return (f"**{self.name}**: {self.width}×{self.height}, {float(self.frame_rate):.4g} frames per second, "
                f"{frames}, {length}, {audio}")


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
    """The job's frame counts, as the conversion computes its total
    (:func:`rrin.inference.job.expected_frames`). Checks the page's limits, in its words."""
    if fps is None and (factor is None or not 2 <= factor <= MAX_FACTOR):
        raise PlainError(f"×N must be a whole number from 2 to {MAX_FACTOR}.")
    if fps is not None and fps > MAX_FPS:
        raise PlainError(f"The frame rate can be at most {MAX_FPS} frames per second.")
    if fps is not None and fps < facts.frame_rate * Fraction(999, 1000):
        raise PlainError(f"The frame rate must be at least the video's own, {float(facts.frame_rate):.4g} "
                         "frames per second.")
    count, approximate = facts.frames, False
    if not count:
        count = max(1, round((facts.duration or 0) * float(facts.frame_rate)))
        approximate = True
    out = expected_frames(count, facts.frame_rate, factor, fps)
    return FramePlan(count, out, max(out - count, 0), approximate)


def format_duration(seconds: float) -> str:
    """``1:02:03``, ``2:05`` or ``4.2 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
