"""Where the fixed DIS synthesis is wrong: training samples chosen by its error.

A ``dis`` model starts as the paper's synthesis on DIS flows and learns only what that
synthesis gets wrong. Most of a video is static or moves simply, so most uniform crops are
already right and teach nothing. Two switches of the training config spend the samples
where the synthesis errs:

* ``augment.crop_candidates`` = K > 1: K random windows of a sample are drawn and one is
  kept with probability proportional to the synthesis's mean error inside it
  (:func:`error_weighted_crop`);
* ``data.hard_clips`` = s > 0: a share s of the sample stream draws clips in proportion to
  the synthesis's error on the clip's middle frame (:func:`clip_hardness`, used by
  :class:`rrin.train.sampler.StreamBatchSampler`), the rest uniformly.

The synthesis here is the NumPy/OpenCV twin of ``RRIN.synthesize`` without refinement:
intermediate flows by the paper's quadratic formula, backward warps reading the border
pixel outside the frame, the (1 − t, t) blend. It only ranks samples, so it need not match
the network to the last bit.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .augment import Sample

__all__ = ["synthesis_error", "error_weighted_crop", "clip_hardness", "sampling_weights"]

#: Added to every window's mean error: a static window keeps a small chance to be drawn.
_FLOOR = 1e-3
#: Clip scores above this quantile count as that quantile: a clip the synthesis cannot get
#: right at all (a missed cut, a flash) is drawn no more often than the hardest 5 % of clips.
CAP_QUANTILE = 0.95


def _backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) read at ``x + flow(x)``; ``flow`` (2, H, W) in pixels."""
    height, width = image.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[0], grid_y + flow[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def synthesis_error(frames: list[np.ndarray], t: float, flow: np.ndarray) -> np.ndarray:
    """Per-pixel error of the fixed synthesis, (H, W) float32 in [0, 1].

    Args:
        frames: ``[I0, I_t, I1]``, (H, W, 3) uint8 RGB.
        t: the time of ``I_t`` in (0, 1).
        flow: (4, H, W) float32, ``flow_01`` (u, v) then ``flow_10`` (u, v), pixels.

    Returns:
        The mean over channels of |synthesis − I_t| / 255.
    """
    img0, img_t, img1 = (np.asarray(f, dtype=np.float32) for f in frames)
    flow_01, flow_10 = flow[0:2].astype(np.float32), flow[2:4].astype(np.float32)
    flow_t0 = -(1 - t) * t * flow_01 + t * t * flow_10
    flow_t1 = (1 - t) * (1 - t) * flow_01 - t * (1 - t) * flow_10
    blend = (1 - t) * _backward_warp(img0, flow_t0) + t * _backward_warp(img1, flow_t1)
    return np.abs(blend - img_t).mean(axis=2) / 255.0


def _window_means(error: np.ndarray, size_h: int, size_w: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Mean of ``error`` over each (size_h × size_w) window with top-left (ys[i], xs[i])."""
    table = np.pad(error.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[ys + size_h, xs + size_w] - table[ys, xs + size_w] - table[ys + size_h, xs] + table[ys, xs]
    return sums / (size_h * size_w)


def error_weighted_crop(sample: Sample, size: int, rng: np.random.Generator, candidates: int) -> Sample:
    """A ``size``×``size`` window of ``sample`` (frames and flow), drawn among ``candidates``
    uniform windows with probability ∝ the synthesis's mean error in each (+ a small floor).

    ``sample.flow`` must be set (a DIS-flow model's training samples always carry it).
    """
    height, width = sample.frames[0].shape[:2]
    if size <= 0 or (height <= size and width <= size):
        return sample
    ch, cw = min(size, height), min(size, width)
    ys = rng.integers(0, height - ch + 1, size=candidates)
    xs = rng.integers(0, width - cw + 1, size=candidates)
    weights = _window_means(synthesis_error(sample.frames, sample.t, sample.flow), ch, cw, ys, xs) + _FLOOR
    pick = int(rng.choice(candidates, p=weights / weights.sum()))
    y, x = int(ys[pick]), int(xs[pick])
    frames = [f[y:y + ch, x:x + cw] for f in sample.frames]
    return Sample(frames, sample.t, sample.flow[:, y:y + ch, x:x + cw])


def clip_hardness(reader, flow_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(N,) float64: the synthesis's mean error on each clip's middle frame, from its end frames.

    Args:
        reader: a clip reader (``len``, ``clip(i)``) of clips with 3 or more frames.
        flow_fn: ``(frame0, frame1) -> (4, H, W)`` flows for clips without stored ones.
        progress: called with (done, total) every 100 clips.
    """
    scores = np.zeros(len(reader), dtype=np.float64)
    for index in range(len(reader)):
        clip = reader.clip(index)
        last = len(clip.frames) - 1
        frames = [clip.frames[0], clip.frames[last // 2], clip.frames[last]]
        flow = clip.flow if clip.flow is not None else flow_fn(frames[0], frames[2])
        scores[index] = float(synthesis_error(frames, (last // 2) / last, flow).mean())
        if progress is not None and (index + 1) % 100 == 0:
            progress(index + 1, len(reader))
    return scores


def sampling_weights(scores: np.ndarray, cap_quantile: float = CAP_QUANTILE) -> np.ndarray:
    """Per-clip draw weights from :func:`clip_hardness` scores, capped at ``cap_quantile``."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    return np.minimum(scores, np.quantile(scores, cap_quantile))
