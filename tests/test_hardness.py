"""Hard-sample selection: the synthesis error map, error-weighted crops, 9-frame clips and
the weighted sample stream."""

from __future__ import annotations

import numpy as np
import pytest

from rrin.data.augment import Sample
from rrin.data.hardness import clip_hardness, error_weighted_crop, synthesis_error
from rrin.data.clips import Clip
from rrin.data.make_dataset import MakeDatasetOptions
from rrin.data.samples import pick_frames
from rrin.train.sampler import StreamBatchSampler
from test_train_data import texture


def shifted(image: np.ndarray, dx: float) -> np.ndarray:
    """``image`` moved right by ``dx`` pixels (whole pixels, border repeated)."""
    shift = int(round(dx))
    out = np.roll(image, shift, axis=1)
    out[:, :shift] = image[:, :1]
    return out


def translation(height=64, width=96, step=4):
    """I0, I_t (t = ½) and I1 of a texture moving right ``step`` px per half-step, and its exact flows."""
    base = texture(3, height, width + 32)[:height, 16:16 + width]
    frames = [shifted(base, 0), shifted(base, step), shifted(base, 2 * step)]
    flow = np.zeros((4, height, width), np.float32)
    flow[0] = 2 * step   # flow_01: frame 0 → frame 1, u
    flow[2] = -2 * step  # flow_10
    return frames, flow


def test_synthesis_error_is_small_with_exact_flow_and_large_without():
    frames, flow = translation()
    exact = synthesis_error(frames, 0.5, flow)[:, 16:-16]  # away from the borders the shift invents
    zero = synthesis_error(frames, 0.5, np.zeros_like(flow))[:, 16:-16]
    assert exact.shape == (64, 64)
    assert exact.mean() < 0.005
    assert zero.mean() > 10 * exact.mean()


def test_error_weighted_crop_prefers_the_window_where_the_synthesis_errs():
    frames, flow = translation(64, 256)
    frames = [f.copy() for f in frames]
    frames[1][:, 192:] = 255 - frames[1][:, 192:]  # the synthesis is wrong only in the right quarter
    sample = Sample(frames, 0.5, flow)
    lefts = []
    for seed in range(40):
        crop = error_weighted_crop(sample, 64, np.random.default_rng(seed), candidates=8)
        assert crop.frames[0].shape == (64, 64, 3) and crop.flow.shape == (4, 64, 64)
        left = next(x for x in range(256 - 63) if np.array_equal(frames[0][:, x:x + 64], crop.frames[0]))
        lefts.append(left)
    uniform = [int(np.random.default_rng(s).integers(0, 193)) for s in range(40)]
    hard = np.mean([x + 64 > 192 for x in lefts])
    assert hard > 0.8 > np.mean([x + 64 > 192 for x in uniform])


def test_clip_hardness_ranks_a_wrong_middle_frame_first():
    frames, flow = translation()
    wrong = [frames[0], 255 - frames[1], frames[2]]

    class Reader:
        clips = [Clip(frames, flow), Clip(wrong, flow), Clip(frames, None)]

        def __len__(self):
            return len(self.clips)

        def clip(self, index):
            return self.clips[index]

    scores = clip_hardness(Reader(), flow_fn=lambda a, b: flow)
    assert scores.argmax() == 1 and scores[0] == pytest.approx(scores[2])


def test_nine_frame_clips_draw_spans_up_to_eight():
    MakeDatasetOptions(clip_length=9)
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(9)]
    spans = set()
    for seed in range(200):
        (first, middle, last), t = pick_frames(frames, None, 0, False, np.random.default_rng(seed), random_span=True)
        span = int(last[0, 0, 0]) - int(first[0, 0, 0])
        assert t == pytest.approx((int(middle[0, 0, 0]) - int(first[0, 0, 0])) / span)
        spans.add(span)
    assert spans == set(range(2, 9))


def test_weighted_stream_follows_the_weights_and_is_reproducible():
    weights = [0.0, 0.0, 1.0, 3.0]
    sampler = StreamBatchSampler(4, 8, seed=1, end_step=500, weights=weights, weighted_share=1.0)
    counts = np.bincount([index for batch in sampler for index, _ in batch], minlength=4)
    assert counts[0] == counts[1] == 0
    assert 2.5 < counts[3] / counts[2] < 3.5
    again = StreamBatchSampler(4, 8, seed=1, start_step=123, end_step=124, weights=weights, weighted_share=1.0)
    assert next(iter(again)) == sampler.batch(123)
    half = StreamBatchSampler(4, 8, seed=1, end_step=500, weights=weights, weighted_share=0.5)
    counts = np.bincount([index for batch in half for index, _ in batch], minlength=4)
    assert counts[0] > 0 and counts[3] > counts[0]  # the uniform half still visits every clip
    uniform = StreamBatchSampler(4, 8, seed=1, end_step=3, weights=weights, weighted_share=0.0)
    assert [i for b in uniform for i, _ in b] == [i for b in StreamBatchSampler(4, 8, seed=1, end_step=3) for i, _ in b]


def test_sampling_weights_cap_outliers():
    from rrin.data.hardness import sampling_weights

    scores = np.array([0.01] * 19 + [1.0])
    weights = sampling_weights(scores)
    assert weights[:19].tolist() == [0.01] * 19
    assert 0.01 <= weights[-1] < 0.1  # the outlier counts as the 95th percentile, not 100× the rest
