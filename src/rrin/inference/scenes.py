"""Scene-cut and duplicate-frame detection with a cheap, documented measure.

Each frame is reduced once to a 64×36 grey thumbnail (area average of Rec.601 luma, values
in [0, 1]). The *difference* of two frames is the mean absolute difference of their
thumbnails, a number in [0, 1]: about 0.00 for identical frames, 0.01–0.05 for ordinary
motion, typically 0.13–0.5 across a hard cut. A pair whose difference exceeds the
scene threshold (default :data:`DEFAULT_SCENE_THRESHOLD`) is a cut and is never morphed; a
pair whose difference is at most the dedup threshold is treated as a duplicate.

One measure and one default serve ``rrin interpolate`` (a cut is not morphed) and
``rrin make-dataset`` (a clip across a cut is skipped). The default, 0.12, comes from the
clips at hand (``examples/bbb_sample.mp4`` and the real-footage clips: bikes, carphone,
Big Buck Bunny, Megamind, vtest; up to 600 frames each): the largest difference of a pair
without a cut was 0.079 (a fast pan in bikes), the nine hard cuts measured 0.134–0.324, the
darkest ones (Megamind) 0.134–0.174. 0.15 would miss the 0.134 one; a false cut costs one repeated frame (or one
dropped training clip), a missed one a morph across the cut.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..options import CUT_MODES, DEFAULT_DEDUP_THRESHOLD, DEFAULT_SCENE_THRESHOLD

__all__ = ["thumbnail", "difference", "DEFAULT_SCENE_THRESHOLD", "DEFAULT_DEDUP_THRESHOLD", "CUT_MODES", "cut_frame"]


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(36, 64) float32 grey thumbnail in [0, 1] of an (H, W, 3) uint8/uint16 RGB image."""
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / scale
    return cv2.resize(grey, (64, 36), interpolation=cv2.INTER_AREA)


def difference(thumb0: np.ndarray, thumb1: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, in [0, 1]."""
    return float(np.mean(np.abs(thumb0 - thumb1)))


def cut_frame(image0: np.ndarray, image1: np.ndarray, t: float, mode: str) -> np.ndarray:
    """The frame at ``t`` across a cut whose place in the gap is unknown: ``"nearest"``
    shows ``image0`` before the gap's middle and ``image1`` from it on (right on either
    side of a cut in the middle, half the frames wrong at worst), ``"repeat"`` shows
    ``image0`` until the next input frame, ``"blend"`` cross-fades ``(1 − t)·image0 + t·image1``."""
    if mode == "nearest":
        return image0 if t < 0.5 else image1
    if mode == "repeat":
        return image0
    mix = (1.0 - t) * image0.astype(np.float32) + t * image1.astype(np.float32)
    return np.rint(mix).astype(image0.dtype)
