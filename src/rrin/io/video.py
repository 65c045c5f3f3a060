"""Decoding video files with PyAV (FFmpeg bundled in its wheels).

:class:`VideoReader` yields frames as (H, W, 3) uint8 RGB numpy arrays with their
timestamps. It is the single place the package decodes video: conversion, dataset creation
and evaluation all read through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import InputError

__all__ = ["VideoReader", "VideoFrame"]


@dataclass
class VideoFrame:
    """One decoded frame: ``image`` (H, W, 3) uint8 RGB, ``time`` in seconds, ``index``."""

    image: np.ndarray
    time: float
    index: int


class VideoReader:
    """Iterate over the frames of a video's first video stream.

    Example::

        with VideoReader("clip.mp4") as reader:
            print(reader.fps, reader.width, reader.height)
            for frame in reader:
                process(frame.image)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"video {self.path} does not exist")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path} is not a readable video: {exc}") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path} has no video stream")
        self.stream = self._container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.width = self.stream.codec_context.width
        self.height = self.stream.codec_context.height
        rate = self.stream.average_rate or self.stream.guessed_rate or Fraction(25)
        self.frame_rate = Fraction(rate)
        #: Frames decoded before a decoding error stopped the stream (None while it has not).
        self.error: str | None = None

    @property
    def fps(self) -> float:
        return float(self.frame_rate)

    @property
    def frame_count(self) -> int | None:
        """The container's frame count, or ``None`` when the container does not say."""
        return self.stream.frames or None

    def __iter__(self) -> Iterator[VideoFrame]:
        index = 0
        try:
            for frame in self._container.decode(self.stream):
                time = float(frame.pts * self.stream.time_base) if frame.pts is not None else index / self.fps
                yield VideoFrame(frame.to_ndarray(format="rgb24"), time, index)
                index += 1
        except av.error.FFmpegError as exc:
            self.error = f"decoding stopped after frame {index}: {exc}"

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
