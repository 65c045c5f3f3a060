"""What the page's buttons do, as text for the page: the checks of the user's choices, the
estimate, the jobs in a worker thread tied to their browser tab. No Gradio here: :mod:`.app`
wires these to the page (where nothing raises) and to the API (where errors are raised).

Every job runs inside :meth:`rrin.ui.sessions.Sessions.running` for its tab, from its first
check to its end, so that Cancel knows whether anything runs and a closed tab stops its job.
A handler that Gradio cancels (the Cancel button, ``Job.cancel()``) sets its job's cancel
event; the job stops at its next frame.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from ..errors import InputError, RRINError
from ..io.video_writer import CODECS
from .facts import MAX_FACTOR, format_duration
from .jobs import Cancelled, JobRunner, VideoRequest
from .messages import PlainError, plain_message, plain_text
from .sessions import Sessions

__all__ = ["Actions", "MODE_FACTOR", "MODE_FPS", "CANCELLED", "Estimate", "in_thread"]

#: The two ways to ask for frames (the API's values of the "mode" parameter).
MODE_FACTOR, MODE_FPS = "×N frames", "target fps"
CANCELLED = "Cancelled. Nothing the job wrote was kept."

#: The captions of ``rrin pair --explain``'s pictures (by file name) in the page.
PICTURE_CAPTIONS = {
    "flow_01": "motion, first → second image", "flow_10": "motion, second → first image",
    "flow_t0": "motion, new frame → first image", "flow_t1": "motion, new frame → second image",
    "weight_0": "share of the first image (white: all)", "weight_1": "share of the second image (white: all)",
    "img0_warped": "first image moved to the new time", "img1_warped": "second image moved to the new time",
    "blend": "the blend of the two", "residue": "the network's correction (grey: none)",
}


async def in_thread(function, *args, cancel: threading.Event | None = None):
    """Run ``function(*args, cancel=…)`` in a worker thread; if the caller is cancelled
    (Gradio cancels the handler), set the cancel event so that the job stops."""
    cancel = cancel if cancel is not None else threading.Event()
    try:
        return await asyncio.to_thread(function, *args, cancel=cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise


def video_request(mode: str, factor, fps, model: str | None, codec: str | None = None, crf=None) -> VideoRequest:
    """The page's choices as a :class:`VideoRequest` (:class:`PlainError` for bad ones)."""
    from ..inference.job import CRF_RANGES
    from ..inference.schedule import parse_rate

    codec = codec or "libx264"
    if codec not in CODECS:
        raise PlainError("Choose one of the formats offered.")
    if mode == MODE_FPS:
        try:
            rate: Fraction | None = parse_rate(str(fps if fps is not None else "").strip())
        except InputError:
            raise PlainError("The frame rate must be a number above 0, such as 60, 59.94 or 24000/1001.") from None
        number = None
    elif mode in (MODE_FACTOR, None, ""):
        rate = None
        try:
            value = float(str(factor).strip().lstrip("×x"))
        except (TypeError, ValueError):
            value = 0.5
        if not value.is_integer():
            raise PlainError(f"×N must be a whole number from 2 to {MAX_FACTOR}.")
        number = int(value)
    else:
        raise PlainError("Choose “×N” or “frame rate”.")
    quality = None
    if str(crf if crf is not None else "").strip():
        if codec not in CRF_RANGES:
            raise PlainError("The lossless format has no quality number: leave it empty.")
        low, high = CRF_RANGES[codec]
        try:
            quality = int(str(crf).strip())
        except ValueError:
            quality = None
        if quality is None or not low <= quality <= high:
            raise PlainError(f"The quality must be a whole number from {low} to {high} for this format "
                             "(lower is better), or empty.")
    return VideoRequest(factor=number if rate is None else None, fps=rate, model_key=model or None,
                        codec=codec, crf=quality)


@dataclass
class Estimate:
    """What the page shows about a chosen video: its facts (or the problem with it), the
    job's frames and time (or the problem with the settings), and whether measuring this
    machine would make the time better (``measure``)."""

    facts: str = ""
    plan: str = ""
    problem: str | None = None
    measure: bool = False

    def api_text(self) -> str:
        """One Markdown text for the API's ``/facts``."""
        parts = [self.facts, self.plan] + ([f"Error: {self.problem}"] if self.problem else [])
        return "\n\n".join(part for part in parts if part)


class Actions:
    """The page's actions on ``runner``, each tied to a browser tab (``session``)."""

    def __init__(self, runner: JobRunner, sessions: Sessions | None = None) -> None:
        self.runner, self.sessions = runner, sessions or Sessions()

    def message(self, exc: BaseException) -> str:
        """``exc`` as one plain sentence (logged in full on the server if unexpected)."""
        if isinstance(exc, Cancelled):
            return CANCELLED
        if not isinstance(exc, RRINError):
            traceback.print_exception(exc, file=sys.stderr)
        return plain_message(exc, self.runner.workspace.relative_message)

    # ------------------------------------------------------------------ before a job

    def estimate(self, video, mode, factor, fps, model, codec=None, crf=None) -> Estimate:
        """The facts of ``video`` and the job's frames and time for these settings."""
        shown = Estimate()
        if not video:
            return shown
        try:
            found = self.runner.probe(video)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence
            shown.problem = self.message(exc)
            return shown
        shown.facts = found.markdown()
        try:
            request = video_request(mode, factor, fps, model, codec, crf)
            plan, speed, exact = self.runner.pace(found, request)
        except Exception as exc:  # noqa: BLE001
            shown.problem = self.message(exc)
            return shown
        count = f"about {plan.frames_out}" if plan.approximate else str(plan.frames_out)
        if speed.measured:
            how = "measured on this computer" if exact else "from a video of another size on this computer"
        else:
            how = "a first guess"
        shown.plan = (f"Makes {count} frames from {plan.frames_in} ({plan.new_frames} new) in about "
                      f"**{format_duration(max(speed.seconds(plan.new_frames), 0.1))}** ({how}).")
        shown.measure = not exact
        return shown

    async def measure(self, video, mode, factor, fps, model, codec=None, crf=None, session: str | None = None) -> Estimate:
        """Time the job on the video's first frames (if the machine is free), then :meth:`estimate`."""
        shown = self.estimate(video, mode, factor, fps, model, codec, crf)
        if not shown.measure or shown.problem:
            return shown
        cancel = threading.Event()
        with self.sessions.running(session, cancel):
            try:
                request = video_request(mode, factor, fps, model, codec, crf)
                measured = await in_thread(self.runner.measure, video, request, cancel=cancel)
            except Exception as exc:  # noqa: BLE001 - the job itself will say what is wrong
                shown.problem = self.message(exc)
                return shown
        if measured is None:
            shown.plan += " Measured when the running job ends."
            return shown
        return self.estimate(video, mode, factor, fps, model, codec, crf)

    # ------------------------------------------------------------------ the jobs

    async def convert(self, video, mode, factor, fps, model, codec, crf, progress: Callable,
                      session: str | None = None):
        """Convert ``video``; returns (the result's path, the "Done" line)."""
        cancel = threading.Event()
        with self.sessions.running(session, cancel):
            if not video:
                raise PlainError("Choose a video first.")
            request = video_request(mode, factor, fps, model, codec, crf)

            def report(done, total, left):
                text = f"{done} of {total} frames" if total else f"{done} frames"
                if left is not None:
                    text += f" · about {format_duration(left)} left"
                progress((done, total) if total else None, desc=text, unit="frames")

            progress(None, desc="Starting: loading the model and the video…")
            outcome = await in_thread(self.runner.convert_video, video, request, report, cancel=cancel)
        done = (f"**Done**: {outcome.frames_out} frames from {outcome.frames_in} in "
                f"{format_duration(outcome.seconds)} → {outcome.path.name}")
        if request.codec == "ffv1":
            done += " (a browser cannot play this format: download it)"
        for warning in outcome.warnings:
            done += f"\n\nNote: {plain_text(self.runner.workspace.relative_message(warning))}"
        if outcome.error:
            reason = plain_text(self.runner.workspace.relative_message(outcome.error)).rstrip(".")
            done += (f"\n\nThe video stopped decoding early ({reason}): the result has the {outcome.frames_in} "
                     "frames that decoded.")
        return outcome.path, done

    async def preview(self, video, position, mode, factor, fps, model, progress: Callable | None = None,
                      session: str | None = None):
        """One new frame between the pair at ``position``: (before, new, after, caption)."""
        cancel = threading.Event()
        with self.sessions.running(session, cancel):
            if not video:
                raise PlainError("Choose a video first.")
            request = video_request(mode, factor, fps, model)
            if progress is not None:
                progress(None, desc="Making one new frame…")
            outcome = await in_thread(self.runner.preview, video, float(position or 0.0), request, cancel=cancel)
        caption = (f"The new frame at t = {outcome.t:.2f}, between the frame at {outcome.time_s:.2f} s and the next "
                   f"({format_duration(outcome.seconds)} to make).")
        return outcome.before, outcome.middle, outcome.after, caption

    async def pair(self, image0, image1, t, count, model, progress: Callable | None = None, session: str | None = None):
        """The frames between two images and the pictures of what the network did:
        (frames with captions, pictures with captions)."""
        cancel = threading.Event()
        with self.sessions.running(session, cancel):
            if not image0 or not image1:
                raise PlainError("Choose two images first.")
            count = int(count or 1)
            times = [float(t)] if count <= 1 else [k / (count + 1) for k in range(1, count + 1)]
            if progress is not None:
                progress(None, desc="Making the in-between frames…")
            outcome = await in_thread(self.runner.pair, image0, image1, times, model or None, True, cancel=cancel)
        frames = [(str(path), f"t = {t:.3f}") for path, t in zip(outcome.frames, outcome.times)]
        pictures = [(str(path), PICTURE_CAPTIONS.get(path.stem, path.stem)) for path in outcome.explanation]
        return frames, pictures
