"""Frame predictors scored side by side: the RRIN model and the baselines.

A predictor rebuilds the frames between two real frames. Every method of the harness —
the model, frame repeat, linear blend and FFmpeg's ``minterpolate`` — implements
:class:`Predictor`, so ``rrin evaluate``, the trainer's validation and the benchmarks score
them all the same way.

Frames are (H, W, 3) uint8 numpy RGB arrays; ``t`` in (0, 1) is the time of the wanted frame,
0 being ``img0`` and 1 being ``img1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import InputError
from .minterpolate import MinterpolateOptions, minterpolate_sequence

__all__ = ["Predictor", "ModelPredictor", "RepeatPredictor", "BlendPredictor",
           "MinterpolatePredictor", "BASELINES", "make_baseline", "predict_sequence"]


@runtime_checkable
class Predictor(Protocol):
    """Anything that rebuilds in-between frames.

    ``predict(img0, img1, times)`` takes two (H, W, 3) uint8 RGB frames and returns one
    (H, W, 3) uint8 RGB frame per time in ``times`` (each in (0, 1)), in order.
    """

    name: str

    def predict(self, img0: np.ndarray, img1: np.ndarray, times: Sequence[float]) -> list[np.ndarray]: ...


class ModelPredictor:
    """An RRIN model through :class:`rrin.Interpolator` (flows computed once per pair).

    Args:
        interpolator: an :class:`rrin.inference.Interpolator`.
        name: the name shown in reports (default ``"rrin"``).
    """

    def __init__(self, interpolator, name: str = "rrin") -> None:
        self.interpolator = interpolator
        self.name = name

    @classmethod
    def load(cls, model=None, device="auto", precision="auto", name: str | None = None,
             backend: str = "auto") -> "ModelPredictor":
        """Load ``model`` (shipped name, weights path, :class:`RRIN` or ``None``) into a predictor."""
        from ..inference import Interpolator

        if name is None and model is None:  # the default shipped model: named after it
            from ..inference.device import resolve_device
            from ..model.registry import default_model_name

            name = default_model_name(resolve_device(device))
        if name is None:
            name = "rrin" if not isinstance(model, (str, os.PathLike)) else Path(model).stem
        return cls(Interpolator(model, device=device, precision=precision, backend=backend), name)

    def predict(self, img0, img1, times):
        return self.interpolator.interpolate_many(_uint8(img0), _uint8(img1), list(times))


class RepeatPredictor:
    """Frame repeat: the nearest input frame (``img0`` for t < 0.5, else ``img1``)."""

    name = "repeat"

    def predict(self, img0, img1, times):
        return [(_uint8(img0) if t < 0.5 else _uint8(img1)).copy() for t in times]


class BlendPredictor:
    """Linear blend (1 − t)·img0 + t·img1, rounded to 8-bit."""

    name = "blend"

    def predict(self, img0, img1, times):
        a, b = _uint8(img0).astype(np.float64), _uint8(img1).astype(np.float64)
        return [np.clip(np.rint((1 - t) * a + t * b), 0, 255).astype(np.uint8) for t in times]


class MinterpolatePredictor:
    """FFmpeg's ``minterpolate`` (see :mod:`rrin.evaluate.minterpolate` for the options).

    ``predict`` runs the filter on the pair alone; :meth:`predict_sequence` runs it once
    over a whole sequence of kept frames (faster, and with the motion history the filter
    uses), which is what clip evaluation does. ``times`` must be j/k for one k.
    """

    name = "minterpolate"

    def __init__(self, options: MinterpolateOptions = MinterpolateOptions()) -> None:
        self.options = options

    def predict(self, img0, img1, times):
        factor = _factor_of(times)
        frames = minterpolate_sequence([_uint8(img0), _uint8(img1)], factor, self.options)[0]
        return [frames[round(t * factor) - 1] for t in times]

    def predict_sequence(self, frames: Sequence[np.ndarray], factor: int) -> list[list[np.ndarray]]:
        return minterpolate_sequence([_uint8(f) for f in frames], factor, self.options)


BASELINES = {"repeat": RepeatPredictor, "blend": BlendPredictor, "minterpolate": MinterpolatePredictor}


def make_baseline(name: str) -> Predictor:
    """A baseline by name: ``repeat``, ``blend`` or ``minterpolate``."""
    if name not in BASELINES:
        raise InputError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    return BASELINES[name]()


def predict_sequence(predictor: Predictor, frames: Sequence[np.ndarray], factor: int) -> list[list[np.ndarray]]:
    """The k-1 frames between each pair of consecutive ``frames``, at t = j/k.

    Uses the predictor's own ``predict_sequence`` when it has one, else ``predict`` per pair.
    """
    if hasattr(predictor, "predict_sequence"):
        return predictor.predict_sequence(frames, factor)
    times = [j / factor for j in range(1, factor)]
    return [predictor.predict(a, b, times) for a, b in zip(frames, frames[1:])]


def _factor_of(times: Sequence[float]) -> int:
    for factor in range(2, 257):
        if all(abs(t * factor - round(t * factor)) < 1e-6 and 0 < round(t * factor) < factor for t in times):
            return factor
    raise InputError(f"minterpolate can only rebuild frames at t = j/k, not at {list(times)}")


def _uint8(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) RGB frame, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
    raise InputError(f"unsupported frame dtype {array.dtype}")
