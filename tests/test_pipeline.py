"""The streaming pipeline on its own: chunked model calls, resume bookkeeping, limits."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from conftest import make_tiny_model, moving_square
from rrin.errors import InputError
from rrin.inference.interpolator import Interpolator
from rrin.inference.tiling import iter_tiled, run_tiled
from rrin.inference.pipeline import MAX_FACTOR, MAX_FPS, InterpolateOptions, interpolate_stream
from rrin.io.video import VideoFrame
from rrin.model.rrin import Flows


def frames(count: int, rate: int = 12) -> list[VideoFrame]:
    return [VideoFrame(moving_square(16, 24, shift=k), k / rate, k, k, Fraction(k, rate)) for k in range(count)]


class ListSink:
    def __init__(self) -> None:
        self.pts: list[int] = []
        self.closed = False

    def write(self, image: np.ndarray, pts: int) -> None:
        self.pts.append(pts)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        pass


def blend(img0: torch.Tensor, img1: torch.Tensor, times) -> list[torch.Tensor]:
    return [img0 * (1 - t) + img1 * t for t in times]


def test_a_pairs_frames_are_computed_as_they_are_passed_on():
    """--factor 64 used to compute all 63 new frames of a pair and hold them before passing
    any on; now each is taken from a lazy model only when the one before has gone on."""
    passed_on = [0]
    computed = []

    def model(img0, img1, times):
        for t in times:
            computed.append(passed_on[0])
            yield img0 * (1 - t) + img1 * t

    def progress(done: int) -> None:
        passed_on[0] += 1

    sink = ListSink()
    options = InterpolateOptions(factor=MAX_FACTOR, scene_threshold=None)
    result = interpolate_stream(frames(2), sink, model, options, progress=progress)
    assert result.frames_out == 65 and sink.pts == list(range(65)) and sink.closed
    assert computed == [1 + j for j in range(63)]  # frame 0's copy, then one new frame at a time


def test_interpolator_computes_time_steps_when_taken():
    """The model call ``convert`` uses: flows once, then a batch of time steps (one on CPU)
    per step of the iteration, the same outputs as ``run``."""
    interp = Interpolator(make_tiny_model(), device="cpu", backend="eager")
    calls = {"flows": 0, "synthesize": 0}
    estimate, synthesize = interp.backend._estimate_flows, interp.backend._synthesize

    def count_flows(*args):
        calls["flows"] += 1
        return estimate(*args)

    def count_synthesize(*args):
        calls["synthesize"] += 1
        return synthesize(*args)

    interp.backend._estimate_flows, interp.backend._synthesize = count_flows, count_synthesize
    img0, img1 = (torch.from_numpy(moving_square(16, 24, shift=s)).permute(2, 0, 1)[None].float() / 255 for s in (0, 3))
    times = [k / 8 for k in range(1, 8)]
    outputs = interp.iter_run(img0, img1, times)
    assert calls == {"flows": 0, "synthesize": 0}
    first = next(outputs)
    assert calls == {"flows": 1, "synthesize": 1}
    rest = list(outputs)
    assert calls == {"flows": 1, "synthesize": 7} and len(rest) == 6
    reference = interp.run(img0, img1, times)
    torch.testing.assert_close(first.img_t, reference[0].img_t)
    torch.testing.assert_close(rest[-1].img_t, reference[-1].img_t)


def test_tiles_run_a_chunk_of_time_steps_at_a_time():
    img0, img1 = (torch.from_numpy(moving_square(32, 40, shift=s)).permute(2, 0, 1)[None].float() / 255 for s in (0, 3))
    times = [k / 11 for k in range(1, 11)]
    seen = []
    stream = iter_tiled(lambda a, b, ts: seen.append(len(ts)) or blend(a, b, ts), img0, img1, times, 16, 4, chunk=4)
    first = next(stream)
    tiles = len(seen)
    assert tiles > 1 and set(seen) == {4}  # only the first chunk, in every tile
    frames_t = [first, *stream]
    assert seen == [4] * tiles + [4] * tiles + [2] * tiles
    whole = run_tiled(blend, img0, img1, times, 16, 4)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(frames_t, whole)) and len(frames_t) == 10


def test_batched_pairs_stay_within_one_chunk():
    """Batching pairs keeps all their new frames in memory together: at most time_chunk."""
    calls = []

    def model(img0, img1, times):
        calls.append((img0.shape[0], len(times)))
        return blend(img0, img1, times)

    options = InterpolateOptions(factor=4, scene_threshold=None, batch_size=8, time_chunk=8)
    result = interpolate_stream(frames(6), ListSink(), model, options)
    assert result.frames_out == 21
    assert all(pairs * times <= 8 for pairs, times in calls) and sum(p for p, _ in calls) == 5


@pytest.mark.parametrize("skip,written", [(9, []), (8, [8]), (5, [5, 6, 7, 8])])
def test_resume_skips_finished_frames_and_counts_them(skip, written):
    """A rerun after every segment was written (the join had failed) used to write the
    last frame again; counts describe the whole output either way."""
    sink = ListSink()
    options = InterpolateOptions(factor=2, scene_threshold=None)
    result = interpolate_stream(frames(5), sink, blend, options, skip_frames=skip)
    assert sink.pts == written
    assert (result.frames_out, result.frames_resumed, result.frames_in) == (9, skip, 5)


@pytest.mark.parametrize("kwargs,message", [
    ({"factor": MAX_FACTOR + 1}, "at most 64"),
    ({"fps": Fraction(MAX_FPS + 1)}, "at most 1000"),
    ({"fps": Fraction(10) ** 9}, "at most 1000"),
    ({"factor": 2, "time_chunk": 0}, "at least 1"),
])
def test_limits(kwargs, message):
    with pytest.raises(InputError, match=message):
        InterpolateOptions(**kwargs)


def test_dis_flows_are_computed_ahead_in_the_reader_thread():
    """A DIS-flow model's runner hands its flows to the pipeline, which computes them in the
    reader thread (overlapping the network); the frames are the same as without."""
    import threading

    from rrin.inference.convert import ConvertJob, model_runner
    from rrin.model.config import PRESETS
    from rrin.model.rrin import RRIN
    from pathlib import Path

    torch.manual_seed(0)
    model = RRIN(PRESETS["dis-lite"]).eval()
    job = ConvertJob(Path("in.mp4"), Path("out.mp4"), tile=0)
    runner = model_runner(job, 16, 24, model, "cpu", "fp32", "eager")
    assert runner.flow_fn is not None
    threads = []

    def flow_fn(img0, img1):
        threads.append(threading.current_thread())
        return runner.flow_fn(img0, img1)

    class ImageSink(ListSink):
        def __init__(self):
            super().__init__()
            self.images = []

        def write(self, image, pts):
            super().write(image, pts)
            self.images.append(image)

    options = InterpolateOptions(factor=3, scene_threshold=None)
    ahead, inline = ImageSink(), ImageSink()
    interpolate_stream(frames(4), ahead, runner, options, flow_fn=flow_fn)
    interpolate_stream(frames(4), inline, lambda a, b, times: runner(a, b, times), options)
    assert len(threads) == 3 and threading.main_thread() not in threads
    assert len(ahead.images) == len(inline.images) == 10
    for got, expected in zip(ahead.images, inline.images):
        np.testing.assert_array_equal(got, expected)


def shifted(shifts: list[int], rate: int = 12) -> list[VideoFrame]:
    """Frames at pts k (1/rate s apart) whose square sits at ``shifts[k]``: equal shifts are duplicates."""
    return [VideoFrame(moving_square(16, 24, shift=s), k / rate, k, k, Fraction(k, rate)) for k, s in enumerate(shifts)]


@pytest.mark.parametrize("shifts", [[0, 2, 2], [0, 2, 2, 2], [0, 0, 0], [0, 2, 2, 4, 4], [0, 0, 2, 2]])
@pytest.mark.parametrize("mode,per_input", [({"factor": 2}, 2), ({"factor": 3}, 3), ({"fps": Fraction(24)}, 2)])
def test_trailing_duplicates_keep_the_timeline(shifts, mode, per_input):
    """n inputs make (n − 1)·N + 1 frames, one per output slot in order, with or without
    --dedup: a trailing run of duplicates spans (run length) intervals, not one more. The
    pair from the last kept frame to the last duplicate used to be planned with the run's
    full span: p0, p2, p2 at --factor 2 gave 7 frames (output slots 4 and 5 past the end)."""
    n = len(shifts)
    expected = list(range((n - 1) * per_input + 1))
    options = InterpolateOptions(**mode, scene_threshold=None, dedup=0.002)
    sink = ListSink()
    result = interpolate_stream(shifted(shifts), sink, blend, options)
    assert sink.pts == expected and sink.closed
    assert result.frames_out == len(expected) and result.frames_in == n
    assert result.duplicates == sum(a == b for a, b in zip(shifts, shifts[1:]))
    plain = ListSink()
    interpolate_stream(shifted(shifts), plain, blend, InterpolateOptions(**mode, scene_threshold=None))
    assert plain.pts == expected


@pytest.mark.parametrize("mode", [{"factor": 3}, {"fps": Fraction(36)}])
def test_flows_ahead_only_for_pairs_the_model_runs(mode):
    """A resumed run decodes from the start but must not spend DIS on pairs whose frames an
    earlier run wrote, nor on pairs across a scene cut (the model never runs on those)."""
    pairs = []

    def flow_fn(img0, img1):
        pairs.append(1)
        zero = torch.zeros(1, 2, *img0.shape[-2:])
        return Flows(zero, zero)

    def model(img0, img1, times, flows=None):
        return blend(img0, img1, times)

    sink = ListSink()
    result = interpolate_stream(frames(6), sink, model, InterpolateOptions(scene_threshold=None, **mode),
                                skip_frames=7, flow_fn=flow_fn)
    assert result.frames_out == 16 and sink.pts[0] == 7  # at 12 → 36 fps the slots are the factor's
    assert len(pairs) == 3  # pairs ending at frames 3, 4, 5 hold outputs ≥ 7; the first two do not
    pairs.clear()
    interpolate_stream(frames(6), ListSink(), model, InterpolateOptions(scene_threshold=0.0, **mode), flow_fn=flow_fn)
    assert pairs == []  # every pair is a cut at threshold 0
