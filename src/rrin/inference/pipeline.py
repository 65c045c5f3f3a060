"""The streaming conversion pipeline behind ``rrin interpolate``.

Three stages overlap::

    reader thread ──(bounded queue)──> model (calling thread) ──(bounded queue)──> writer thread

The reader decodes, converts each frame once to a (1, 3, H, W) float tensor in [0, 1] and a
scene thumbnail; that one tensor serves both pairs the frame belongs to. The calling thread
plans each pair's output frames (:mod:`rrin.inference.schedule`), runs the model for the
in-between ones (flows once per pair; ``batch_size`` pairs per call when their time steps
match and all their new frames, at most ``time_chunk``, fit in memory together), and
passes finished frames on as they come: a pair's frames are taken from the model one by
one, so with a lazy model call (an iterator, as :func:`~rrin.inference.convert.convert`
uses) a frame is computed only when the writer's queue has room for it. The writer thread
encodes. Queues are bounded, so memory stays flat in the video's length and in the
factor or rate; threads are joined on every exit path and an exception in either thread
is re-raised in the caller.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np
import torch

from ..errors import InputError
from ..model.rrin import Flows
from .pairing import Pair, Pairing
from .scenes import CUT_MODES, DEFAULT_SCENE_THRESHOLD, cut_frame, difference, thumbnail

__all__ = ["InterpolateOptions", "InterpolateResult", "interpolate_stream", "Sink",
           "MAX_FACTOR", "MAX_FPS", "MAX_FPS_RATIO"]

#: The largest ``--factor``.
MAX_FACTOR = 64
#: The largest ``--fps``, and the largest multiple of the input's rate it may be.
MAX_FPS = 1000
MAX_FPS_RATIO = 64

_END = object()


class Sink(Protocol):
    def write(self, image: np.ndarray, pts: int) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


@dataclass(frozen=True)
class InterpolateOptions:
    """What to make: exactly one of ``factor`` (≥ 2) or ``fps`` (> 0).

    ``scene_threshold``: thumbnail difference above which a pair is a cut (None: never);
    ``on_cut``: one of :data:`~rrin.inference.scenes.CUT_MODES`; ``dedup``: difference at or below which a
    frame counts as a duplicate of the previous kept one and is dropped (None: keep all);
    ``batch_size``: pairs per model call, as long as the batch holds at most
    ``time_chunk`` new frames in all (≥ 1; a pair with more runs alone, its frames taken
    one by one). ``factor`` is at most :data:`MAX_FACTOR` and ``fps`` at most
    :data:`MAX_FPS` (the bound relative to the input's rate, :data:`MAX_FPS_RATIO`, is
    checked where the input is known).
    """

    factor: int | None = None
    fps: Fraction | None = None
    batch_size: int = 1
    scene_threshold: float | None = DEFAULT_SCENE_THRESHOLD
    on_cut: str = CUT_MODES[0]
    dedup: float | None = None
    queue_size: int = 8
    time_chunk: int = 8

    def __post_init__(self) -> None:
        if (self.factor is None) == (self.fps is None):
            raise InputError("give exactly one of --factor and --fps")
        if self.factor is not None and self.factor < 2:
            raise InputError(f"--factor must be at least 2, got {self.factor}")
        if self.factor is not None and self.factor > MAX_FACTOR:
            raise InputError(f"--factor must be at most {MAX_FACTOR}, got {self.factor}")
        if self.fps is not None and self.fps <= 0:
            raise InputError(f"--fps must be positive, got {float(self.fps):g}")
        if self.fps is not None and self.fps > MAX_FPS:
            raise InputError(f"--fps must be at most {MAX_FPS}, got {float(self.fps):g}")
        if self.time_chunk < 1:
            raise InputError(f"time_chunk must be at least 1, got {self.time_chunk}")
        if self.on_cut not in CUT_MODES:
            raise InputError(f"--on-cut must be one of {', '.join(CUT_MODES)}, got {self.on_cut!r}")


@dataclass
class InterpolateResult:
    """What a run did: frame counts, cuts and duplicates seen, where decoding stopped
    early (``error``), and seconds spent decoding, in the model and encoding.

    Counts describe the whole output, also after ``--resume``: ``frames_out`` includes the
    ``frames_resumed`` that an earlier run had already written."""

    frames_in: int = 0
    frames_out: int = 0
    frames_resumed: int = 0
    cuts: int = 0
    duplicates: int = 0
    error: str | None = None
    timings: dict = field(default_factory=lambda: {"decode": 0.0, "flows": 0.0, "model": 0.0, "encode": 0.0, "wall": 0.0})


@dataclass
class _Frame:
    index: int
    pts: int
    timestamp: Fraction
    image: np.ndarray
    tensor: torch.Tensor
    thumb: np.ndarray
    flows: Flows | None = None  # from the previous decoded frame to this one (``flow_fn``)
    flows_from: int = -1  # that previous frame's index


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return torch.from_numpy(image.astype(np.float32) / scale).permute(2, 0, 1)[None]


def _to_image(img_t: torch.Tensor, dtype) -> np.ndarray:
    scale = 65535.0 if dtype == np.uint16 else 255.0
    array = img_t.permute(1, 2, 0).float().cpu().numpy()
    return np.clip(np.rint(array * scale), 0, scale).astype(dtype)


class _Worker(threading.Thread):
    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc


def interpolate_stream(reader, sink: Sink, run_model: Callable, options: InterpolateOptions,
                       skip_frames: int = 0, progress: Callable[[int], None] | None = None,
                       flow_fn: Callable[[torch.Tensor, torch.Tensor], Flows] | None = None,
                       start: Fraction | None = None, final: bool = True) -> InterpolateResult:
    """Convert everything ``reader`` yields into ``sink``.

    Args:
        reader: iterable of :class:`~rrin.io.video.VideoFrame` with ``pts``/``timestamp``
            (``VideoReader`` or ``FrameFolderReader``); its ``error`` is read at the end.
        sink: takes ``write(image, pts)`` in output order (``boundary()`` too, if it has
            one, after every pair), then ``close()`` — or ``abort()`` on failure.
        run_model: ``(img0, img1, times) ->`` one (B, 3, H, W) tensor per time step, img0/img1
            (B, 3, H, W) float in [0, 1], times in (0, 1) — a list, or an iterator that
            computes them as they are taken (e.g. ``Interpolator.iter_run`` mapped to
            ``.img_t``), which keeps memory flat for many time steps.
        skip_frames: output frames already written (resume): planned but not computed.
        progress: called with the number of output frames done so far.
        flow_fn: ``(img0, img1) -> Flows`` of two consecutive frames, computed in the reader
            thread so that it overlaps the model (DIS on the CPU while the network runs);
            a pair with such flows is run as ``run_model(img0, img1, times, flows)``. Pairs
            that are not consecutive decoded frames (after a dropped duplicate) leave the
            flows to ``run_model``; pairs the model will not run (a scene cut, or all of
            whose frames an earlier run wrote) get none. Default: ``run_model.flow_fn``
            when it has one.
        start, final: for a range cut from the middle of an input (``rrin.inference.cluster``):
            ``start`` is the timestamp of the input's first frame (default: the first frame
            read); ``final=False`` when the range ends before the input does: its last frame
            only closes the last pair (no last-frame output, no trailing-duplicate pair).
    """
    if flow_fn is None:  # a runner that offers its flows (``convert.ModelRunner``) gets them computed ahead
        flow_fn = getattr(run_model, "flow_fn", None)
    result = InterpolateResult()
    start_wall = time.perf_counter()
    stop = threading.Event()
    inbox: queue.Queue = queue.Queue(options.queue_size)
    outbox: queue.Queue = queue.Queue(options.queue_size * 4)

    def read() -> None:
        try:
            clock = time.perf_counter()
            previous, first = None, start
            for frame in reader:
                if stop.is_set():
                    break
                item = _Frame(frame.index, frame.pts, frame.timestamp, frame.image, _to_tensor(frame.image), thumbnail(frame.image))
                result.timings["decode"] += time.perf_counter() - clock
                first = item.timestamp if first is None else first
                if flow_fn is not None and previous is not None and _may_run(previous, item, options, skip_frames, first):
                    clock = time.perf_counter()
                    item.flows, item.flows_from = flow_fn(previous.tensor, item.tensor), previous.index
                    result.timings["flows"] += time.perf_counter() - clock
                inbox.put(item)
                previous = item
                clock = time.perf_counter()
        finally:
            inbox.put(_END)

    def write() -> None:
        failed = False
        while True:
            item = outbox.get()
            if item is _END:
                break
            if failed:
                continue
            clock = time.perf_counter()
            try:
                if item is None:
                    boundary = getattr(sink, "boundary", None)
                    if boundary is not None:
                        boundary()
                else:
                    sink.write(*item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                failed = True
                raise_later.append(exc)
            result.timings["encode"] += time.perf_counter() - clock
        if not failed and not stop.is_set():
            clock = time.perf_counter()
            sink.close()
            result.timings["encode"] += time.perf_counter() - clock

    raise_later: list[BaseException] = []
    reader_thread, writer_thread = _Worker(read), _Worker(write)
    reader_thread.start()
    writer_thread.start()
    state = _State(options, run_model, outbox, result, skip_frames, progress, raise_later, start, final)
    reader_done = False
    try:
        while True:
            item = inbox.get()
            if item is _END:
                reader_done = True
                break
            state.add(item)
        reader_thread.join()
        if reader_thread.error is not None:
            raise reader_thread.error
        state.finish()
    except BaseException:
        stop.set()
        while not reader_done:  # let the reader finish its put and stop
            reader_done = inbox.get() is _END
        outbox.put(_END)
        reader_thread.join()
        writer_thread.join()
        sink.abort()
        raise
    outbox.put(_END)
    reader_thread.join()
    writer_thread.join()
    for error in (reader_thread.error, writer_thread.error, *raise_later):
        if error is not None:
            sink.abort()
            raise error
    result.error = getattr(reader, "error", None)
    result.timings["wall"] = time.perf_counter() - start_wall
    return result


def _is_cut(a: _Frame, b: _Frame, options: InterpolateOptions) -> bool:
    return options.scene_threshold is not None and difference(a.thumb, b.thumb) > options.scene_threshold


def _may_run(a: _Frame, b: _Frame, options: InterpolateOptions, skip: int, start: Fraction) -> bool:
    """Whether the model may run on consecutive frames (a, b): not across a cut, and some
    of their output frames (``--factor``: indices below ``b.index · N``; ``--fps``: slots
    before b's time, counted from ``start``) are not already written (``skip``, resume)."""
    if _is_cut(a, b, options):
        return False
    if options.factor is not None:
        return b.index * options.factor > skip
    return (b.timestamp - start) * options.fps > skip


class _State:
    """The calling thread's part: pairing (:class:`~rrin.inference.pairing.Pairing`),
    batching, cut handling."""

    def __init__(self, options, run_model, outbox, result, skip_frames, progress, writer_errors,
                 start: Fraction | None = None, final: bool = True) -> None:
        self.options, self.run_model, self.outbox, self.result = options, run_model, outbox, result
        self.skip, self.progress, self.writer_errors = skip_frames, progress, writer_errors
        self.pairing = Pairing(options, start, final)
        self.batch: list[tuple[_Frame, _Frame, list, bool]] = []

    def add(self, frame: _Frame) -> None:
        self.result.frames_in += 1
        pair = self.pairing.add(frame)
        self.result.duplicates = self.pairing.duplicates
        if pair is not None:
            self._pair(pair)

    def finish(self) -> None:
        try:
            pair, last = self.pairing.finish()
        except InputError:
            self._flush()
            raise
        if pair is not None:
            self._pair(pair)
        self._flush()
        if self.pairing.final:  # a range that ends inside the input has no last-frame output
            anchor = self.pairing.anchor
            self._emit(anchor, anchor, self._unfinished(last), [])

    def _unfinished(self, planned: list) -> list:
        """The frames of ``planned`` not written by an earlier run (resume); the others are
        counted in the result, which describes the whole output."""
        kept = [p for p in planned if p.index >= self.skip]
        self.result.frames_out += len(planned) - len(kept)
        self.result.frames_resumed += len(planned) - len(kept)
        return kept

    def _pair(self, pair: Pair) -> None:
        """Queue ``pair`` for the model: batched with the pairs before it when their time
        steps match, alone across a cut."""
        opts, a, b = self.options, pair.a, pair.b
        cut = _is_cut(a, b, opts)
        self.result.cuts += cut
        planned = self._unfinished(pair.planned)
        if not planned:
            return
        times = [p.t for p in planned if not p.is_copy]
        if self.batch and (len(self.batch) >= opts.batch_size
                           or [p.t for p in self.batch[0][2] if not p.is_copy] != times
                           or (len(self.batch) + 1) * len(times) > opts.time_chunk):
            self._flush()
        self.batch.append((a, b, planned, cut))

    def _call_model(self, pairs: list, times: list[float]):
        """``run_model`` on ``pairs`` batched, with their flows when the reader computed them."""
        img0 = torch.cat([a.tensor for a, _ in pairs])
        img1 = torch.cat([b.tensor for _, b in pairs])
        if not all(b.flows is not None and b.flows_from == a.index for a, b in pairs):
            return self.run_model(img0, img1, times)
        flows = Flows(torch.cat([b.flows.flow_01 for _, b in pairs]), torch.cat([b.flows.flow_10 for _, b in pairs]))
        return self.run_model(img0, img1, times, flows)

    def _run(self, pairs: list, times: list[float]) -> list[torch.Tensor]:
        """The model's frames at ``times`` for ``pairs`` batched: one (B, 3, H, W) per t."""
        clock = time.perf_counter()
        frames_t = list(self._call_model(pairs, times))
        self.result.timings["model"] += time.perf_counter() - clock
        return frames_t

    def _stream(self, a: _Frame, b: _Frame, times: list[float]) -> Iterator[torch.Tensor]:
        """One pair's frames at ``times``, taken from the model one at a time as the writer's
        queue accepts them: with a lazy ``run_model`` (an iterator, as ``convert`` gives)
        the next frames are computed only then, so memory holds no more than the model's
        own batch of new frames whatever the factor or rate."""
        clock = time.perf_counter()
        frames_t = iter(self._call_model([(a, b)], times))
        while True:
            frame = next(frames_t, None)
            self.result.timings["model"] += time.perf_counter() - clock
            if frame is None:
                return
            yield frame[0]
            clock = time.perf_counter()

    def _flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        model_pairs = [(a, b) for a, b, _, cut in batch if not cut]
        times = [p.t for p in batch[0][2] if not p.is_copy]
        if len(model_pairs) > 1 and times:  # several pairs, at most time_chunk frames in all: one call
            frames_t = self._run(model_pairs, times)
            rows = {id(a): [f[row] for f in frames_t] for row, (a, _) in enumerate(model_pairs)}
            for a, b, planned, cut in batch:
                self._emit(a, b, planned, None if cut else rows[id(a)])
            return
        for a, b, planned, cut in batch:
            self._emit(a, b, planned, None if cut else (self._stream(a, b, times) if times else []))

    def _emit(self, a: _Frame, b: _Frame, planned: list, generated: Iterable | None) -> None:
        """Pass ``planned`` on to the writer: copies of ``a``, the ``generated`` frames (taken
        one by one, as the writer's queue accepts them), or, across a cut (``generated`` is
        None), the frame before it or a cross-fade."""
        tensors = iter(generated if generated is not None else [])
        for p in planned:
            if self.writer_errors:
                raise self.writer_errors[0]
            if p.is_copy:
                image = a.image
            elif (tensor := next(tensors, None)) is not None:
                image = _to_image(tensor, a.image.dtype)
            else:
                image = cut_frame(a.image, b.image, p.t, self.options.on_cut)
            self.outbox.put((image, p.pts))
            self.result.frames_out += 1
            if self.progress is not None:
                self.progress(p.index + 1)
        self.outbox.put(None)
