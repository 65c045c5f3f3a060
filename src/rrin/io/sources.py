"""Inputs of ``rrin interpolate``: a video file or a folder of numbered images.

Both readers expose the same attributes (``width``, ``height``, ``frame_rate``,
``time_base``, ``pix_fmt``, ``bit_depth``, ``color``, ``error``, ``frame_count``) and iterate
:class:`~rrin.io.video.VideoFrame` s with exact ``pts``/``timestamp``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from .frames import list_frames
from .images import read_rgb
from .video import ColorInfo, VideoFrame, VideoReader

__all__ = ["FrameFolderReader", "open_source", "DEFAULT_FOLDER_RATE"]

#: The frame rate a folder of images is given when none is named.
DEFAULT_FOLDER_RATE = Fraction(25)


class FrameFolderReader:
    """The images of a folder in natural order (2.png before 10.png) at ``frame_rate``.

    All images must have the same size (:class:`InputError` naming the first that differs).
    16-bit images are read as uint16 when ``deep``; everything else as uint8 RGB.
    """

    def __init__(self, folder: str | Path, frame_rate: Fraction = DEFAULT_FOLDER_RATE, deep: bool = False) -> None:
        self.path = Path(folder)
        self.files = list_frames(self.path)
        first = self._read(self.files[0], deep)
        self.height, self.width = first.shape[:2]
        self.bit_depth = 16 if first.dtype == np.uint16 else 8
        self.deep = deep and self.bit_depth > 8
        self.frame_rate = Fraction(frame_rate)
        self.time_base = 1 / self.frame_rate
        self.pix_fmt = "yuv444p16le" if self.bit_depth > 8 else "yuv420p"
        self.color = ColorInfo()
        self.error: str | None = None
        self.container = None

    @property
    def frame_count(self) -> int:
        return len(self.files)

    @property
    def fps(self) -> float:
        return float(self.frame_rate)

    @staticmethod
    def _read(path: Path, deep: bool) -> np.ndarray:
        return read_rgb(path, deep)

    def __iter__(self) -> Iterator[VideoFrame]:
        return self.frames()

    def frames(self, first: int = 0, stop: int | None = None) -> Iterator[VideoFrame]:
        """The frames ``first`` … ``stop − 1`` (default: to the end), with their own indices."""
        for index, path in enumerate(self.files[first:stop], start=first):
            image = self._read(path, self.deep)
            if image.shape[:2] != (self.height, self.width):
                raise InputError(f"{path} is {image.shape[1]}x{image.shape[0]}, the folder's first image "
                                 f"is {self.width}x{self.height}: all frames must have one size")
            timestamp = index * self.time_base
            yield VideoFrame(image, float(timestamp), index, index, timestamp)

    def close(self) -> None:
        pass

    def __enter__(self) -> "FrameFolderReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(path: str | Path, deep: bool = True,
                frame_rate: Fraction | None = None) -> VideoReader | FrameFolderReader:
    """A reader for a video file or a frame folder; :class:`InputError` when missing.

    ``frame_rate``: the rate of a frame folder (default 25 frames/s); a video file carries
    its own timestamps, so naming one for it is an :class:`InputError`.
    """
    path = Path(path)
    if frame_rate is not None and frame_rate <= 0:
        raise InputError(f"the input frame rate must be positive, got {frame_rate}")
    if path.is_dir():
        return FrameFolderReader(path, frame_rate=frame_rate or DEFAULT_FOLDER_RATE, deep=deep)
    if not path.exists():
        raise InputError(f"input {path} does not exist")
    if frame_rate is not None:
        raise InputError(f"{path} is a video with its own timestamps: --input-fps is for frame folders")
    return VideoReader(path, deep=deep)
