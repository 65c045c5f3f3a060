"""The page's jobs, one at a time, through the same library calls as the command line.

* a video: :func:`rrin.inference.convert.convert` (what ``rrin interpolate`` runs);
* a preview: one pair of the video through :func:`rrin.inference.convert.model_runner`,
  the model call ``convert`` itself makes;
* two images: :meth:`rrin.inference.Interpolator.interpolate_images` and
  :func:`rrin.inference.write_explanation` (what ``rrin pair --explain`` runs);
* a measurement (:meth:`JobRunner.measure`): the real conversion of a video's first two
  pairs, stopped there, for the time estimate (:mod:`.speed`).

Nothing here knows about Gradio. Errors are the library's :class:`rrin.errors.RRINError` s;
a job stopped with its ``cancel`` event raises :class:`Cancelled` after the library has removed
its partial output (the progress hook raises inside the conversion, whose atomic writes
clean up), and the job's private folder is removed either way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from ..errors import InputError
from .facts import FramePlan, VideoFacts, plan_frames, probe
from .models import ModelChoices, model_config
from .speed import Speed, SpeedBook, Stopped, Stopwatch, rough_speed
from .workspace import Workspace, safe_stem

__all__ = ["Cancelled", "VideoRequest", "VideoOutcome", "PreviewOutcome", "PairOutcome", "JobRunner",
           "OUTPUT_EXTENSIONS"]

#: The container each codec's result is written in (all play in a browser but ffv1).
OUTPUT_EXTENSIONS = {"libx264": ".mp4", "libx265": ".mp4", "libsvtav1": ".mp4", "libvpx-vp9": ".webm", "ffv1": ".mkv"}

#: ``report(done, total, seconds_left)``: frames done, frames expected (None: unknown), ETA.
Report = Callable[[int, "int | None", "float | None"], None]


class Cancelled(Exception):
    """The job was cancelled; nothing it wrote was kept."""


@dataclass(frozen=True)
class VideoRequest:
    """What to make: ``factor`` or ``fps`` (exactly one), the model menu key (None: the
    preselected one), the encoder and its quality (None: the codec's default CRF)."""

    factor: int | None = 2
    fps: Fraction | None = None
    model_key: str | None = None
    codec: str = "libx264"
    crf: int | None = None

    def label(self) -> str:
        return f"x{self.factor}" if self.fps is None else f"{float(self.fps):g}fps"


@dataclass
class VideoOutcome:
    path: Path
    frames_in: int
    frames_out: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # where decoding stopped early (the result has what decoded)


@dataclass
class PreviewOutcome:
    before: Path
    middle: Path
    after: Path
    t: float
    time_s: float  # where frame "before" is in the video
    seconds: float  # the model's time for the new frame


@dataclass
class PairOutcome:
    frames: list[Path]
    times: list[float]
    explanation: list[Path]


def _cancel_check(cancel: threading.Event | None) -> Callable[[Stopwatch], BaseException | None]:
    """A :class:`Stopwatch` ``stop`` that ends the job once ``cancel`` is set."""
    return lambda watch: Cancelled("cancelled") if cancel is not None and cancel.is_set() else None


#: A measurement (:meth:`JobRunner.measure`) ends after two pairs (the first is warm-up), or
#: after this many seconds.
_MEASURE_SECONDS = 60.0


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]


def _save_rgb(path: Path, rgb: np.ndarray) -> Path:
    from ..io.images import Image, write_image

    return write_image(path, Image(np.clip(rgb, 0, 1).astype(np.float32)))


class JobRunner:
    """Runs the page's jobs one at a time (the CPU is the bottleneck) in ``workspace``.

    Args:
        workspace: the private folder and the shared folder.
        models: the model menu; jobs name one of its keys.
        device, precision, backend: as ``--device``/``--precision``/``--backend``.
    """

    def __init__(self, workspace: Workspace, models: ModelChoices, device: str = "auto",
                 precision: str = "auto", backend: str = "auto") -> None:
        self.workspace, self.models = workspace, models
        self.device, self.precision, self.backend = device, precision, backend
        self.speeds = SpeedBook()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _slot(self, cancel: threading.Event | None) -> Iterator[None]:
        """Hold the one job slot (a cancelled job may still be finishing its last frame)."""
        while not self._lock.acquire(timeout=0.1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            self.workspace.prune()
            yield
        finally:
            self._lock.release()

    def model_key(self, key: str | None) -> str:
        self.models.source(key)  # validates
        return key or self.models.default_key or "default"

    def probe(self, path: str | Path) -> VideoFacts:
        """The facts of the upload or shared file at ``path`` (:class:`InputError` if unreadable)."""
        return probe(self.workspace.check_input(path))

    def _speed_key(self, request: VideoRequest) -> str:
        return f"{self.model_key(request.model_key)}|{request.codec}"

    def pace(self, facts: VideoFacts, request: VideoRequest) -> tuple[FramePlan, Speed, bool]:
        """The job's frames, its pace and whether that pace was measured at this very size
        (:class:`InputError` for choices the job would refuse). Unmeasured: a rough one."""
        plan = plan_frames(facts, request.factor if request.fps is None else None, request.fps)
        speed, exact = self.speeds.lookup(self._speed_key(request), facts.width, facts.height)
        if speed is None:
            config = model_config(self.models.source(request.model_key))
            speed = rough_speed(config, facts.width, facts.height)
        return plan, speed, exact

    def measure(self, path: str | Path, request: VideoRequest, cancel: threading.Event | None = None) -> Speed | None:
        """Time the job on this machine: run the real conversion of the video at ``path``
        for its first few pairs (then stop it; nothing is kept) and record the pace.

        None when another job holds the machine (a measurement then would be wrong and would
        slow that job) or the video is too short to time."""
        from ..inference.convert import ConvertJob, convert

        source = self.workspace.check_input(path)
        model = self.models.source(request.model_key)
        facts = probe(source)
        plan = plan_frames(facts, request.factor if request.fps is None else None, request.fps)
        if not self._lock.acquire(blocking=False):
            return None
        cancelled = _cancel_check(cancel)
        start = time.monotonic()

        def enough(watch: Stopwatch) -> BaseException | None:
            _, pairs = watch.steady()
            if pairs >= 1 - 1e-9 or time.monotonic() - start > _MEASURE_SECONDS:
                return Stopped()
            return cancelled(watch)

        watch = self._stopwatch(plan, stop=enough)
        try:
            with self.workspace.job_folder() as folder:
                job = ConvertJob(input=source, output=folder / f"measure{OUTPUT_EXTENSIONS.get(request.codec, '.mp4')}",
                                 factor=request.factor if request.fps is None else None, fps=request.fps,
                                 codec=request.codec, crf=request.crf)
                try:
                    convert(job, model=model, device=self.device, precision=self.precision, backend=self.backend,
                            progress=watch)
                except Stopped:
                    pass
        finally:
            self._lock.release()
        speed = watch.speed(facts.width, facts.height)
        if speed is not None:
            self.speeds.record(self._speed_key(request), speed)
        return speed

    @staticmethod
    def _stopwatch(plan: FramePlan, report=None, stop=None, prior: Speed | None = None) -> Stopwatch:
        pairs = max(plan.frames_in - 1, 1)
        return Stopwatch(report, stop, prior, pair_frames=(plan.frames_out - 1) / pairs,
                         new_per_pair=plan.new_frames / pairs)

    def convert_video(self, path: str | Path, request: VideoRequest, report: Report | None = None,
                      cancel: threading.Event | None = None) -> VideoOutcome:
        """Convert the upload or shared file at ``path``; the result is moved to the cache."""
        from ..inference.convert import ConvertJob, convert

        source = self.workspace.check_input(path)
        model = self.models.source(request.model_key)
        facts = probe(source)
        plan_frames(facts, request.factor if request.fps is None else None, request.fps)
        if request.codec not in OUTPUT_EXTENSIONS:
            raise InputError(f"unknown codec {request.codec!r} (choose from {', '.join(OUTPUT_EXTENSIONS)})")
        name = f"{safe_stem(source.name)}_{request.label()}{OUTPUT_EXTENSIONS[request.codec]}"
        plan, prior, _ = self.pace(facts, request)
        with self._slot(cancel), self.workspace.job_folder() as folder:
            job = ConvertJob(input=source, output=folder / name, factor=request.factor if request.fps is None else None,
                             fps=request.fps, codec=request.codec, crf=request.crf)
            watch = self._stopwatch(plan, report, _cancel_check(cancel), prior)
            if report is not None:
                report(0, plan.frames_out, prior.seconds(plan.new_frames))
            start = time.perf_counter()
            report_ = convert(job, model=model, device=self.device, precision=self.precision,
                              backend=self.backend, progress=watch)
            seconds = time.perf_counter() - start
            result = report_.result
            speed = watch.speed(facts.width, facts.height)
            if speed is not None:
                self.speeds.record(self._speed_key(request), speed)
            kept = self.workspace.keep_result(folder / name)
        return VideoOutcome(kept, result.frames_in, result.frames_out, seconds, list(report_.warnings), result.error)

    def preview(self, path: str | Path, position: float, request: VideoRequest,
                cancel: threading.Event | None = None) -> PreviewOutcome:
        """Interpolate the pair of frames at ``position`` seconds (the last pair if past
        the end) at the job's middle new time step."""
        from ..inference.convert import ConvertJob, model_runner

        source = self.workspace.check_input(path)
        model = self.models.source(request.model_key)
        facts = probe(source)
        plan_frames(facts, request.factor if request.fps is None else None, request.fps)
        t = 0.5 if request.fps is not None else (request.factor // 2) / request.factor
        with self._slot(cancel):
            (frame0, time0), (frame1, _) = _pair_at(source, max(float(position), 0.0))
            height, width = frame0.shape[:2]
            job = ConvertJob(input=source, output=source.with_suffix(".preview.mp4"))  # the runner reads its model options
            run = model_runner(job, height, width, model, self.device, self.precision, self.backend)
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            img0, img1 = _to_tensor(frame0), _to_tensor(frame1)
            with torch.inference_mode():
                start = time.perf_counter()
                middle = next(iter(run(img0, img1, [t])))
                seconds = time.perf_counter() - start
        folder = self.workspace.keep_result_folder()
        before = _save_rgb(folder / "before.png", frame0.astype(np.float32) / 255)
        after = _save_rgb(folder / "after.png", frame1.astype(np.float32) / 255)
        new = _save_rgb(folder / f"new_t{t:.2f}.png", middle[0].permute(1, 2, 0).float().cpu().numpy())
        return PreviewOutcome(before, new, after, t, time0, seconds)

    def pair(self, path0: str | Path, path1: str | Path, times: list[float], model_key: str | None = None,
             explain: bool = True, cancel: threading.Event | None = None) -> PairOutcome:
        """The frames at ``times`` between two images, and (``explain``) the pictures of what
        the network did for the middle one, as ``rrin pair --explain`` writes them."""
        from ..inference import Interpolator, check_time, write_explanation
        from ..io.images import read_image, write_image

        times = [check_time(t) for t in times]
        if not times:
            raise InputError("no time step given")
        source0, source1 = self.workspace.check_input(path0), self.workspace.check_input(path1)
        model = self.models.source(model_key)
        img0, img1 = read_image(source0), read_image(source1)
        with self._slot(cancel):
            interpolator = Interpolator(model, device=self.device, precision=self.precision, backend=self.backend)
            results = interpolator.interpolate_images(img0, img1, times)
        folder = self.workspace.keep_result_folder()
        frames = [write_image(folder / f"frame_t{t:.3f}.png", frame) for t, (frame, _) in zip(times, results)]
        pictures: list[Path] = []
        if explain:
            middle = len(results) // 2
            pictures = write_explanation(folder / "explain", results[middle][1], times[middle])
        return PairOutcome(frames, times, pictures)


def _pair_at(path: Path, position: float) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
    """The frame at or just after ``position`` seconds and the next one (8-bit RGB, time)."""
    import av

    from ..io.sources import open_source

    with open_source(path, deep=False) as reader:
        try:
            reader.container.seek(int(position * 1_000_000), backward=True, any_frame=False)
        except (av.error.FFmpegError, OSError):
            pass  # decode from where the reader is
        earlier = previous = None
        step = 0.5 / float(reader.frame_rate)
        for frame in reader:
            current = (frame.image, float(frame.timestamp))
            if previous is not None and previous[1] >= position - step:
                return previous, current
            earlier, previous = previous, current
        if earlier is not None:
            return earlier, previous  # past the end: the last pair
        if reader.error:
            raise InputError(f"{path.name}: {reader.error}")
    raise InputError(f"{path.name}: the input has {int(previous is not None)} frame(s): at least 2 are needed")
