"""Scoring predictors on samples or on a clip, and the report they produce.

* :func:`evaluate_samples` scores predictors on (img0, img1, ground truth, t) samples — the
  research datasets, or the trainer's held-out set.
* :func:`evaluate_clip` scores them on a real clip: keep every k-th frame, rebuild the
  others at their t, compare with the real frames.

Scores follow :mod:`rrin.metrics` (8-bit predictions, PSNR on RGB, MATLAB-style SSIM,
Middlebury IE). Averages are over rebuilt frames; an infinite PSNR (a perfect frame) counts
as 100 dB in the mean. Time is wall-clock seconds of ``predict`` per rebuilt frame.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import InputError
from ..metrics import image_scores, mean_finite
from .predictors import Predictor, predict_sequence

__all__ = ["Sample", "SampleScore", "MethodResult", "Report", "evaluate_samples", "evaluate_clip"]

Progress = Callable[[int, int], None]
#: Called with (method name, sample name, psnr, prediction, ground truth) for every frame scored.
OnPrediction = Callable[[str, str, float, np.ndarray, np.ndarray], None]


@dataclass
class Sample:
    """One scoring case: (H, W, 3) uint8 RGB ``img0``, ``img1``, ground truth ``gt`` at time ``t``."""

    img0: np.ndarray
    img1: np.ndarray
    gt: np.ndarray
    t: float = 0.5
    name: str = ""


@dataclass(frozen=True)
class SampleScore:
    name: str
    psnr: float
    ssim: float
    ie: float


@dataclass
class MethodResult:
    """The scores of one predictor: per sample, and their means."""

    name: str
    scores: list[SampleScore] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def frames(self) -> int:
        return len(self.scores)

    @property
    def psnr(self) -> float:
        return mean_finite([s.psnr for s in self.scores])

    @property
    def ssim(self) -> float:
        return float(np.mean([s.ssim for s in self.scores])) if self.scores else math.nan

    @property
    def ie(self) -> float:
        return float(np.mean([s.ie for s in self.scores])) if self.scores else math.nan

    @property
    def seconds_per_frame(self) -> float:
        return self.seconds / self.frames if self.frames else math.nan

    def worst(self, count: int) -> list[SampleScore]:
        """The ``count`` samples with the lowest PSNR."""
        return sorted(self.scores, key=lambda s: s.psnr)[:count]

    def to_dict(self, per_sample: bool = True) -> dict:
        data = {"name": self.name, "frames": self.frames, "psnr": self.psnr, "ssim": self.ssim,
                "ie": self.ie, "seconds_per_frame": self.seconds_per_frame}
        if per_sample:
            data["samples"] = [{"name": s.name, "psnr": _finite(s.psnr), "ssim": s.ssim, "ie": s.ie} for s in self.scores]
        return data


@dataclass
class Report:
    """Results of several predictors on one set; ``info`` describes the set (dataset, factor…)."""

    methods: list[MethodResult]
    info: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> MethodResult:
        for method in self.methods:
            if method.name == name:
                return method
        raise KeyError(name)

    def to_dict(self, per_sample: bool = True) -> dict:
        return {**self.info, "methods": [m.to_dict(per_sample) for m in self.methods]}

    def format_table(self) -> str:
        """A plain-text table: method, frames, PSNR (dB), SSIM, IE, seconds per frame."""
        header = f"{'method':<24} {'frames':>6} {'PSNR':>7} {'SSIM':>7} {'IE':>6} {'s/frame':>9}"
        lines = [header, "-" * len(header)]
        for m in self.methods:
            lines.append(f"{m.name[:24]:<24} {m.frames:>6d} {m.psnr:>7.2f} {m.ssim:>7.4f} {m.ie:>6.2f} {m.seconds_per_frame:>9.4f}")
        return "\n".join(lines)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no inf: a perfect frame is null


def _load(sample) -> Sample:
    if hasattr(sample, "load"):
        sample = sample.load()
    if not isinstance(sample, Sample):
        img0, img1, gt, t = sample[:4]
        sample = Sample(img0, img1, gt, float(t))
    if not (sample.img0.shape == sample.img1.shape == sample.gt.shape):
        raise InputError(f"sample {sample.name or '?'}: frames differ in size "
                         f"({sample.img0.shape}, {sample.img1.shape}, ground truth {sample.gt.shape})")
    return sample


def evaluate_samples(predictors: Predictor | Sequence[Predictor], samples: Iterable,
                     progress: Progress | None = None, total: int | None = None,
                     on_prediction: OnPrediction | None = None) -> Report:
    """Score one or several predictors on ``samples``.

    Args:
        predictors: a :class:`Predictor` or a list of them.
        samples: :class:`Sample` s, (img0, img1, gt, t) tuples of (H, W, 3) uint8 RGB
            frames, or objects with a ``load()`` returning a :class:`Sample` (read lazily,
            once for all predictors).
        progress: called with (samples done, total) after each sample.
        on_prediction: called for every scored frame (e.g. :class:`rrin.evaluate.images.WorstCases`).

    Returns:
        A :class:`Report` with one :class:`MethodResult` per predictor, in order.
    """
    if not isinstance(predictors, (list, tuple)):
        predictors = [predictors]
    results = [MethodResult(p.name) for p in predictors]
    if total is None and hasattr(samples, "__len__"):
        total = len(samples)
    done = 0
    for index, item in enumerate(samples):
        sample = _load(item)
        name = sample.name or str(index)
        for predictor, result in zip(predictors, results):
            start = time.perf_counter()
            prediction = predictor.predict(sample.img0, sample.img1, [sample.t])[0]
            result.seconds += time.perf_counter() - start
            score = SampleScore(name, **image_scores(prediction, sample.gt))
            result.scores.append(score)
            if on_prediction is not None:
                on_prediction(result.name, name, score.psnr, prediction, sample.gt)
        done += 1
        if progress is not None:
            progress(done, total or done)
    if done == 0:
        raise InputError("there are no samples to evaluate")
    return Report(results, {"samples": done})


def evaluate_clip(predictors: Predictor | Sequence[Predictor], frames: Sequence[np.ndarray], factor: int,
                  progress: Progress | None = None, on_prediction: OnPrediction | None = None) -> Report:
    """Drop frames of a clip and score how well each predictor rebuilds them.

    Frames 0, k, 2k, … are kept (the clip is cut after the last kept frame); the k-1 frames
    between two kept ones are rebuilt at t = j/k and compared with the real ones.

    Args:
        frames: the clip's frames, (H, W, 3) uint8 RGB, at least k + 1 of them.
        factor: k ≥ 2.
        progress: called with (methods done, number of methods) after each predictor.
        on_prediction: as in :func:`evaluate_samples`.
    """
    if not isinstance(predictors, (list, tuple)):
        predictors = [predictors]
    if factor < 2:
        raise InputError(f"--factor must be at least 2, got {factor}")
    if len(frames) < factor + 1:
        raise InputError(f"the clip has {len(frames)} frames; factor {factor} needs at least {factor + 1}")
    used = (len(frames) - 1) // factor * factor + 1
    kept = list(frames[:used:factor])
    results = []
    for done, predictor in enumerate(predictors, 1):
        result = MethodResult(predictor.name)
        start = time.perf_counter()
        rebuilt = predict_sequence(predictor, kept, factor)
        result.seconds = time.perf_counter() - start
        for i, pair in enumerate(rebuilt):
            for j, prediction in enumerate(pair, 1):
                index = i * factor + j
                score = SampleScore(f"frame_{index:04d}", **image_scores(prediction, frames[index]))
                result.scores.append(score)
                if on_prediction is not None:
                    on_prediction(result.name, score.name, score.psnr, prediction, frames[index])
        results.append(result)
        if progress is not None:
            progress(done, len(predictors))
    return Report(results, {"factor": factor, "frames_used": used, "frames_kept": len(kept),
                            "frames_rebuilt": used - len(kept)})
