"""Decoding video files with PyAV (FFmpeg bundled in its wheels).

:class:`VideoReader` yields frames as (H, W, 3) RGB numpy arrays (uint8, or uint16 for
deep-colour sources read with ``deep=True``) with their exact timestamps. It is the single
place the package decodes video: conversion, dataset creation and evaluation all read
through it. It also reports what a writer needs to keep the look of the source: pixel
format, bit depth, colour metadata (:class:`ColorInfo`), sample aspect ratio and display
matrix (the rotation a phone records).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import InputError
from .av_errors import ffmpeg_message

__all__ = ["VideoReader", "VideoFrame", "ColorInfo"]


@dataclass
class VideoFrame:
    """One decoded frame: ``image`` (H, W, 3) RGB (uint8, or uint16 when read deep),
    ``time`` in seconds (float), ``index``, and the exact ``pts`` in the stream's time base
    and ``timestamp`` (Fraction seconds)."""

    image: np.ndarray
    time: float
    index: int
    pts: int | None = None
    timestamp: Fraction | None = None


@dataclass(frozen=True)
class ColorInfo:
    """Colour metadata as FFmpeg's integer codes (0/2 = unspecified): ``color_range``
    (1 limited/"tv", 2 full/"pc"), ``colorspace`` (the YUV matrix, 1 = BT.709, 5/6 =
    BT.601, 9 = BT.2020), ``color_primaries`` and ``color_trc`` (transfer)."""

    color_range: int = 0
    colorspace: int = 2
    color_primaries: int = 2
    color_trc: int = 2


#: The display matrix of an upright picture (16.16 fixed point, 2.30 in the last column).
_IDENTITY = (1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)


def _int(value) -> int:
    return int(getattr(value, "value", value) or 0)


def _parse_duration(text: str | None) -> Fraction | None:
    """``"HH:MM:SS.fraction"`` (a Matroska ``DURATION`` tag) as seconds, or ``None``."""
    match = re.fullmatch(r"\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*", text or "")
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)


class VideoReader:
    """Iterate over the frames of a video's first video stream.

    Args:
        path: the video file.
        deep: decode sources with more than 8 bits per sample to uint16 RGB (rgb48)
            instead of uint8.

    Example::

        with VideoReader("clip.mp4") as reader:
            print(reader.fps, reader.width, reader.height, reader.pix_fmt, reader.bit_depth)
            for frame in reader:
                process(frame.image, frame.timestamp)
    """

    def __init__(self, path: str | Path, deep: bool = False) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"video {self.path} does not exist")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path} is not a readable video: {ffmpeg_message(exc)}") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path} has no video stream")
        # FFmpeg's choice of the main video stream: not a cover picture or thumbnail track
        # (which may come first: an MKV's one-frame MJPEG cover), else the largest.
        self.stream = self._container.streams.best("video") or self._container.streams.video[0]
        self.stream.thread_type = "AUTO"
        context = self.stream.codec_context
        self.width = context.width
        self.height = context.height
        rate = self.stream.average_rate or self.stream.guessed_rate or Fraction(25)
        self.frame_rate = Fraction(rate)
        self.time_base = Fraction(self.stream.time_base) if self.stream.time_base else Fraction(1, 1000)
        fmt = context.format
        self.pix_fmt: str = fmt.name if fmt is not None else "yuv420p"
        self.bit_depth: int = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
        self.color = ColorInfo(_int(context.color_range), _int(context.colorspace) or 2,
                               _int(context.color_primaries) or 2, _int(context.color_trc) or 2)
        sar = self.stream.sample_aspect_ratio
        #: The shape of a pixel (width/height), None when unspecified (square).
        self.sample_aspect_ratio: Fraction | None = Fraction(sar) if sar else None
        self.deep = deep and self.bit_depth > 8
        #: Frames decoded before a decoding error stopped the stream (None while it has not).
        self.error: str | None = None

    @property
    def fps(self) -> float:
        return float(self.frame_rate)

    @property
    def frame_count(self) -> int | None:
        """The container's frame count, or ``None`` when the container does not say."""
        return self.stream.frames or None

    @functools.cached_property
    def display_matrix(self) -> tuple[int, ...] | None:
        """The transformation players apply to the frames (a phone's rotation), as FFmpeg's
        nine 32-bit integers, read from the first frame's side data; None for upright
        frames or when the first frame does not decode."""
        try:
            with av.open(str(self.path)) as container:
                frame = next(container.decode(container.streams[self.stream.index]), None)
                data = frame.side_data.get("DISPLAYMATRIX") if frame is not None else None
                matrix = tuple(int(v) for v in np.frombuffer(bytes(data), dtype=np.int32)) if data is not None else None
        except (av.error.FFmpegError, OSError, ValueError, KeyError):
            return None
        return None if matrix is None or len(matrix) != 9 or matrix == _IDENTITY else matrix

    @property
    def container(self) -> av.container.InputContainer:
        return self._container

    def to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        """A decoded frame as RGB, using its own matrix and range."""
        full = _int(frame.color_range) == 2 or self.color.color_range == 2 or frame.format.name.startswith("yuvj")
        options = dict(format="rgb48le" if self.deep else "rgb24", src_color_range=2 if full else 1)
        if self.color.colorspace not in (0, 2) and _int(frame.colorspace) in (0, 2):
            options["src_colorspace"] = self.color.colorspace  # tagged on the stream only (e.g. Matroska)
        try:
            return frame.reformat(**options).to_ndarray()
        except ValueError:  # a matrix swscale does not know: fall back to the frame's own
            options.pop("src_colorspace", None)
            return frame.reformat(**options).to_ndarray()

    def __iter__(self) -> Iterator[VideoFrame]:
        index = 0
        last_pts = None
        try:
            for frame in self._container.decode(self.stream):
                pts = frame.pts
                if pts is None or (last_pts is not None and pts <= last_pts):
                    step = round(1 / (self.frame_rate * self.time_base)) or 1
                    pts = (last_pts + step) if last_pts is not None else 0
                last_pts = pts
                timestamp = pts * self.time_base
                yield VideoFrame(self.to_rgb(frame), float(timestamp), index, pts, timestamp)
                index += 1
        except av.error.FFmpegError as exc:
            self.error = f"decoding stopped after frame {index}: {ffmpeg_message(exc)}"
            return
        self.error = self.ends_early(last_pts, index)

    def ends_early(self, last_pts: int | None, frames: int) -> str | None:
        """Why ``frames`` frames ending at ``last_pts`` fall short of the duration the
        container announces (a truncated file), or None when they do not."""
        end = self._end_time()
        if end is not None and last_pts is not None and last_pts * self.time_base + 2 / self.frame_rate < end:
            return (f"decoding stopped after frame {frames} at {float(last_pts * self.time_base):.3f} s "
                    f"of {float(end):.3f} s (truncated file?)")
        return None

    def _end_time(self) -> Fraction | None:
        """When the video stream should end (seconds), from what the container declares:
        the stream's duration after its start (MP4, MOV), its ``DURATION`` tag (Matroska and
        WebM write one per track: the end of its last frame, from 0), or the file's duration
        when the video is its only stream."""
        if self.stream.duration:
            return ((self.stream.start_time or 0) + self.stream.duration) * self.time_base
        tagged = _parse_duration(self.stream.metadata.get("DURATION"))
        if tagged is not None:
            return tagged
        if len(self._container.streams) == 1 and self._container.duration:  # microseconds
            return Fraction(self._container.duration + (self._container.start_time or 0), 1_000_000)
        return None

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
