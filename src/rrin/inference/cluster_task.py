"""What a cluster worker runs: decode a segment's frames, interpolate, encode the segment.

:class:`SegmentWorker` is a plain class; :mod:`rrin.inference.cluster` makes it a Ray actor,
so each worker process builds the model once (from weights that arrive through Ray's
object store) and then makes segment after segment with it. A segment goes through the very
:func:`~rrin.inference.pipeline.interpolate_stream` a one-process run uses, so its frames are
the ones that run would make; it is written under a temporary name in the parts folder and
renamed when complete, so a killed worker never leaves a finished-looking segment.

Nothing here imports Ray: the class is tested and usable without it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import av

from ..errors import InputError
from ..io.atomic import atomic_path, temp_folder
from ..io.av_errors import ffmpeg_message
from ..io.sources import open_source
from ..io.video import VideoFrame, VideoReader
from ..io.video_writer import EncodeSettings, FrameFolderWriter, VideoWriter
from .cluster_plan import Segment
from .pipeline import InterpolateOptions, interpolate_stream

if TYPE_CHECKING:
    from .job import ConvertJob

__all__ = ["TaskSpec", "SegmentWorker", "read_segment", "segment_path", "PAUSE_ENV"]

_ONE_MACHINE = "without --cluster, rrin converts a damaged file as far as it decodes"

#: Test-only: a folder where each segment run leaves ``ran-N-PID`` and, while a file
#: ``hold-N`` exists there, waits before segment N (lets tests kill a busy worker).
PAUSE_ENV = "RRIN_TEST_CLUSTER_PAUSE"


@dataclass(frozen=True)
class TaskSpec:
    """What every segment of one job shares; sent to each worker once.

    ``input``/``parts`` are absolute paths every node must see; ``frames_in`` is the frame
    count the plan saw (a folder that changes meanwhile is refused); ``settings`` is None
    for a folder output; ``job`` carries ``flow_scale``/``tile`` for the model runner;
    ``height``/``width`` the frame size; ``device``/``precision``/``backend`` as on the
    command line (``cuda:N`` means the GPU Ray gives the worker).
    """

    input: str
    input_fps: Fraction | None
    frames_in: int
    parts: str
    settings: EncodeSettings | None
    options: InterpolateOptions
    start: Fraction
    first_pts: int
    job: "ConvertJob"
    height: int
    width: int
    device: str = "auto"
    precision: str = "auto"
    backend: str = "auto"


def segment_path(parts: Path, segment: Segment, video: bool) -> Path:
    """Where a finished segment lives: ``segNNNN.nut``, or the folder ``segNNNN`` of PNGs."""
    return Path(parts) / (segment.name + (".nut" if video else ""))


def read_segment(spec: TaskSpec, segment: Segment) -> Iterator[VideoFrame]:
    """The input frames ``segment.first`` … ``segment.last``, decoded as a one-process run
    decodes them (same reader, same RGB conversion), with their global indices.

    A video is entered at the keyframe before the segment's first frame (or, if the
    container's seek lands later, from its start) and decoded up to it; every frame's pts is
    checked against the plan, so a stream that decodes differently from how it demuxed
    raises :class:`InputError` instead of giving different frames.
    """
    path = Path(spec.input)
    with open_source(path, deep=True, frame_rate=spec.input_fps if path.is_dir() else None) as reader:
        if path.is_dir():
            if len(reader.files) != spec.frames_in:
                raise InputError(f"{path} holds {len(reader.files)} images now, {spec.frames_in} when the job started")
            yield from reader.frames(segment.first, segment.last + 1)
            return
        yield from _seek_frames(reader, segment, spec.first_pts)


def _seek_frames(reader: VideoReader, segment: Segment, first_pts: int) -> Iterator[VideoFrame]:
    wanted = segment.pts
    done = 0
    for position in dict.fromkeys((wanted[0], first_pts)):  # the keyframe before it, else the start
        reader.container.seek(position, stream=reader.stream, backward=True, any_frame=False)
        try:
            for frame in reader.container.decode(reader.stream):
                if frame.pts is None:
                    raise InputError(f"{reader.path}: a decoded frame has no timestamp; convert it without --cluster")
                if done == 0 and frame.pts > wanted[0]:
                    break  # the seek landed after the first frame wanted: try from the start
                if done == 0 and frame.pts < wanted[0]:
                    continue
                if frame.pts != wanted[done]:
                    raise InputError(f"input frame {segment.first + done} decoded at pts {frame.pts}, the plan has "
                                     f"{wanted[done]}: convert {reader.path} without --cluster")
                timestamp = frame.pts * reader.time_base
                yield VideoFrame(reader.to_rgb(frame), float(timestamp), segment.first + done, frame.pts, timestamp)
                done += 1
                if done == len(wanted):
                    return
        except av.error.FFmpegError as exc:
            raise InputError(f"decoding stopped at input frame {segment.first + done}: {ffmpeg_message(exc)}; "
                             f"{_ONE_MACHINE}") from None
        if done:
            break
    raise InputError(f"decoding stopped at input frame {segment.first + done} of {segment.first}-{segment.last}; {_ONE_MACHINE}")


def _pause_for_tests(number: int) -> None:
    folder = os.environ.get(PAUSE_ENV)
    if not folder:
        return
    Path(folder, f"ran-{number}-{os.getpid()}").touch()
    hold, deadline = Path(folder, f"hold-{number}"), time.monotonic() + 120
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


class SegmentWorker:
    """One worker: checks its view of the storage, builds the model once, makes segments.

    ``spec`` is the job's :class:`TaskSpec`. The model comes with each :meth:`run` call as
    a reference and is built on the first one only (a restarted worker builds it again).
    """

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        self._run_model = None

    def check(self) -> dict:
        """Whether this worker can read the input and write the parts folder.

        Returns ``{"host", "pid", "problem"}``; ``problem`` is None or one line.
        """
        problems = []
        path = Path(self.spec.input)
        try:
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file())
                if not files:
                    raise FileNotFoundError(f"no files in {path}")
                path = files[0]
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            problems.append(f"cannot read {self.spec.input} ({exc.strerror or exc})")
        try:
            handle, name = tempfile.mkstemp(prefix=".check.", dir=self.spec.parts)
            os.close(handle)
            os.unlink(name)
        except OSError as exc:
            problems.append(f"cannot write in {self.spec.parts} ({exc.strerror or exc})")
        return {"host": socket.gethostname(), "pid": os.getpid(), "problem": "; ".join(problems) or None}

    def _model(self, weights: bytes | list):
        if self._run_model is None:
            from ..model.registry import load_model
            from .convert import model_runner

            if isinstance(weights, list):
                import ray

                weights = ray.get(weights[0])
            with tempfile.TemporaryDirectory(prefix="rrin-weights-") as folder:
                path = Path(folder) / "weights.safetensors"
                path.write_bytes(weights)
                model = load_model(path, "cpu")
            device = "cuda" if self.spec.device.startswith("cuda") else self.spec.device
            spec = self.spec
            self._run_model = model_runner(spec.job, spec.height, spec.width, model, device, spec.precision, spec.backend)
        return self._run_model

    def run(self, segment: Segment, weights: bytes | list) -> dict:
        """Make ``segment`` into the parts folder; returns its counts and timings.

        ``weights``: the model as safetensors bytes (``rrin.save_weights``' format), or a
        one-element list holding a Ray object reference to them (not resolved by Ray: fetched
        from the object store only when this worker builds its model). Raises
        :class:`InputError` when the frames do not match the plan.
        """
        _pause_for_tests(segment.number)
        clock = time.perf_counter()
        run_model = self._model(weights)
        spec, video = self.spec, self.spec.settings is not None
        target = segment_path(Path(spec.parts), segment, video)
        frames = read_segment(spec, segment)
        options = dict(start=spec.start, final=segment.final)
        if video:
            with atomic_path(target) as tmp:
                writer = _FirstPts(VideoWriter(tmp, spec.settings))
                result = interpolate_stream(frames, writer, run_model, spec.options, **options)
                _check_count(result.frames_out, segment)
            first_pts = writer.first
        else:
            tmp = temp_folder(target)
            try:
                writer = FrameFolderWriter(tmp)
                writer.count = segment.out_first  # files are named by output frame number
                first_pts = None
                result = interpolate_stream(frames, writer, run_model, spec.options, **options)
                _check_count(result.frames_out, segment)
                if target.exists():
                    shutil.rmtree(target)
                os.replace(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return {"number": segment.number, "file": target.name, "frames": result.frames_out, "first_pts": first_pts,
                "cuts": result.cuts,
                "duplicates": result.duplicates, "host": socket.gethostname(), "pid": os.getpid(),
                "seconds": time.perf_counter() - clock, **{k: v for k, v in result.timings.items() if k != "wall"}}


class _FirstPts:
    """A sink that passes everything on to ``sink`` and remembers the first pts written
    (the join shifts each segment back to it: see ``concat_segments``)."""

    def __init__(self, sink) -> None:
        self.sink, self.first = sink, None

    def write(self, image, pts: int) -> None:
        if self.first is None:
            self.first = int(pts)
        self.sink.write(image, pts)

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


def _check_count(made: int, segment: Segment) -> None:
    if made != segment.out_frames:
        raise InputError(f"{segment.describe()} made {made} output frames, the plan has {segment.out_frames}: "
                         "the input decodes differently here than on the driver")
