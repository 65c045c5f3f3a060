"""What every dataset reader provides: clips of consecutive frames.

A reader is a sequence of clips: ``len(reader)`` and ``reader.clip(i)`` → :class:`Clip`,
with ``reader.clip_length`` (3 for triplets, 7 for septuplets) and ``reader.name``.
Frames are (H, W, 3) uint8 RGB numpy arrays; all frames of a clip share one size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.images import read_rgb

__all__ = ["Clip", "read_rgb8", "check_clip"]


@dataclass
class Clip:
    """``frames``: (H, W, 3) uint8 RGB, in time order. ``flow``: (4, H, W) float32 or None,
    ``flow_01`` (u, v) then ``flow_10`` (u, v) between the first and the last frame, pixels.
    """

    frames: list[np.ndarray]
    flow: np.ndarray | None = None


def read_rgb8(path: str | Path) -> np.ndarray:
    """Decode an image file to (H, W, 3) uint8 RGB (16-bit files rounded to 8 bits, see
    :func:`rrin.io.images.read_rgb`)."""
    return read_rgb(path)


def check_clip(frames: list[np.ndarray], where: str) -> list[np.ndarray]:
    """Raise :class:`InputError` if the frames of one sample differ in size."""
    sizes = {f.shape for f in frames}
    if len(sizes) != 1:
        shapes = ", ".join(f"{f.shape[1]}x{f.shape[0]}" for f in frames)
        raise InputError(f"{where}: frames of one sample differ in size ({shapes})")
    return frames
