"""Encoding video files with PyAV, and writing frame folders.

:class:`VideoWriter` encodes RGB frames (uint8, or uint16 for deep colour) with one of
:data:`CODECS`, keeping the source's pixel format family, bit depth where the codec allows,
colour metadata (range, matrix, primaries, transfer), sample aspect ratio and display
matrix (the rotation a phone records), and copies the source's audio and subtitle streams
packet by packet, interleaved by time, in the source's stream order (the video where the
source had its video). A stream the output container cannot hold is re-encoded (audio:
AAC, or Opus for WebM) or dropped (subtitles), and the writer says so in
:attr:`VideoWriter.warnings`.

Joining closed segments into one file is :mod:`rrin.io.concat`, which muxes through the
same :class:`_Muxer` (audio/subtitle copy). Which codec, pixel format and options a file
gets is :mod:`rrin.io.codecs`.

Default quality: ``crf`` 18 for libx264/libx265 (visually lossless for most material),
31 for libvpx-vp9 and 30 for libsvtav1; ffv1 is lossless and ignores it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from ..errors import InputError
from .av_errors import ffmpeg_message
from .codecs import (CODECS, VIDEO_EXTENSIONS, EncodeSettings, check_container, choose_pix_fmt, codec_options,
                     encode_warnings)

__all__ = ["CODECS", "EncodeSettings", "VideoWriter", "FrameFolderWriter", "choose_pix_fmt", "check_container",
           "VIDEO_EXTENSIONS"]


def _open_output(path: Path) -> av.container.OutputContainer:
    try:
        return av.open(str(path), "w")
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(f"cannot write {path}: {ffmpeg_message(exc)}") from None


def shape_video(stream, settings: EncodeSettings, warnings: list[str]) -> None:
    """Give an output video ``stream`` the settings' sample aspect ratio and display
    matrix; a PyAV too old to write display matrices adds a warning instead."""
    if settings.sample_aspect_ratio:
        stream.codec_context.sample_aspect_ratio = settings.sample_aspect_ratio
    if settings.display_matrix is not None:
        if hasattr(stream, "set_display_matrix"):
            stream.set_display_matrix(settings.display_matrix)
        else:
            warnings.append(f"the source's rotation is not kept: PyAV {av.__version__} cannot write it (PyAV 18.1 can)")


class _Muxer:
    """An output container with a video stream made by ``add_video(container)`` and the
    audio and subtitle streams of ``source`` copied, all in the source's order (the video
    at the position of the source's main video stream, the one :class:`VideoReader` reads;
    first when there is no source)."""

    def __init__(self, path: Path, source: Path | None, add_video: Callable) -> None:
        self.path = Path(path)
        self.container = _open_output(self.path)
        self.warnings: list[str] = []
        self._source = None
        self._copies: list[tuple] = []  # (source stream, output stream, resampler or None)
        self.video = None
        try:
            if source is not None and Path(source).is_file():
                self._source = av.open(str(source))
                best = self._source.streams.best("video")
                main = best.index if best is not None else None
                for stream in self._source.streams:
                    if stream.index == main:
                        self.video = add_video(self.container)
                    elif stream.type in ("audio", "subtitle"):
                        self._add_copy(stream)
            if self.video is None:
                self.video = add_video(self.container)
        except BaseException:
            self.close()
            raise
        self._iter = self._source.demux(*[s for s, _, _ in self._copies]) if self._source and self._copies else iter(())
        self._next = None

    def _add_copy(self, stream) -> None:
        name = stream.codec_context.name
        if name in self.container.supported_codecs:
            out = self.container.add_stream_from_template(stream)
            self._copies.append((stream, out, None))
        elif stream.type == "audio":
            target = "libopus" if self.path.suffix.lower() == ".webm" else "aac"
            rate = 48000 if target == "libopus" else (stream.rate or 48000)
            out = self.container.add_stream(target, rate=rate)
            out.layout = stream.layout if target == "aac" else "stereo"
            self._copies.append((stream, out, av.AudioResampler(format=out.format, layout=out.layout, rate=rate)))
            self.warnings.append(f"audio stream {stream.index} ({name}) re-encoded to {target}: "
                                 f"{self.path.suffix} cannot hold {name}")
        else:
            self.warnings.append(f"{stream.type} stream {stream.index} ({name}) dropped: {self.path.suffix} cannot hold it")

    def pump(self, until: float | None) -> None:
        """Copy source packets up to ``until`` seconds (all when ``None``)."""
        mapping = {s.index: (out, res) for s, out, res in self._copies}
        while True:
            packet = self._next
            if packet is None:
                packet = next(self._iter, None)
                if packet is None:
                    return
            if packet.dts is None and packet.size == 0:
                self._next = None
                continue
            time = float(packet.pts * packet.time_base) if packet.pts is not None else None
            if until is not None and time is not None and time > until:
                self._next = packet
                return
            self._next = None
            out, resampler = mapping[packet.stream.index]
            if resampler is None:
                packet.stream = out
                self.container.mux(packet)
            else:
                for frame in packet.decode():
                    for converted in resampler.resample(frame):
                        self.container.mux(out.encode(converted))

    def finish(self) -> None:
        self.pump(None)
        for _, out, resampler in self._copies:
            if resampler is not None:
                for converted in resampler.resample(None):
                    self.container.mux(out.encode(converted))
                self.container.mux(out.encode(None))
        self.close()

    def close(self) -> None:
        try:
            self.container.close()
        finally:
            if self._source is not None:
                self._source.close()


@contextlib.contextmanager
def _plain_errors(path: Path, codec: str) -> Iterator[None]:
    """FFmpeg's encoding and muxing errors as one :class:`InputError` sentence; errors of
    the file system (a full disk: ``OSError``) pass unchanged."""
    try:
        yield
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):
            raise
        raise InputError(f"cannot write {path} with {codec}: {ffmpeg_message(exc)}") from None


class VideoWriter:
    """Encode frames into ``path`` (container from the extension).

    Args:
        path: output file (.mp4, .mkv, .webm, .mov, .avi, .nut).
        settings: :class:`EncodeSettings`.
        source: the input video, whose audio and subtitle streams are copied; ``None``
            for a video-only file.

    :meth:`write` takes (H, W, 3) RGB uint8 (or uint16 for deep settings) and the pts in
    ``settings.time_base`` ticks, in increasing order.
    """

    def __init__(self, path: str | os.PathLike, settings: EncodeSettings, source: str | os.PathLike | None = None) -> None:
        self.settings = settings
        if settings.codec == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr otherwise
        self._muxer = _Muxer(Path(path), source, self._add_stream)
        self.warnings = self._muxer.warnings
        self.warnings.extend(encode_warnings(settings, Path(path).suffix.lower()))
        shape_video(self._muxer.video, settings, self.warnings)
        self._stream = self._muxer.video
        color = settings.color
        self._rgb_format = "rgb48le" if settings.deep else "rgb24"
        self._reformat = dict(format=settings.pix_fmt, dst_color_range=2 if color.color_range == 2 else 1)
        if color.colorspace not in (0, 2):
            self._reformat["dst_colorspace"] = color.colorspace

    def _add_stream(self, container: av.container.OutputContainer):
        """The output video stream, with the settings' size, format, time base and colour."""
        settings = self.settings
        try:
            stream = container.add_stream(settings.codec, rate=settings.rate,
                                          options=codec_options(settings.codec, settings.crf, settings.width, settings.height))
        except (av.error.FFmpegError, ValueError, KeyError) as exc:
            raise InputError(f"cannot encode with {settings.codec}: {ffmpeg_message(exc)}") from None
        stream.width, stream.height = settings.width, settings.height
        stream.pix_fmt = settings.pix_fmt
        stream.time_base = settings.time_base
        stream.codec_context.time_base = settings.time_base
        context = stream.codec_context
        for name in ("color_range", "colorspace", "color_primaries", "color_trc"):
            try:
                setattr(context, name, getattr(settings.color, name))
            except (ValueError, TypeError, AttributeError):
                pass
        return stream

    def write(self, image: np.ndarray, pts: int) -> None:
        if image.dtype == np.uint8 and self._rgb_format == "rgb48le":
            image = image.astype(np.uint16) * 257
        elif image.dtype == np.uint16 and self._rgb_format == "rgb24":
            image = (image >> 8).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=self._rgb_format)
        try:
            frame = frame.reformat(**self._reformat)
        except (ValueError, av.error.FFmpegError):
            self._reformat.pop("dst_colorspace", None)
            frame = frame.reformat(**self._reformat)
        frame.pts = pts
        frame.time_base = self.settings.time_base
        with _plain_errors(self._muxer.path, self.settings.codec):
            for packet in self._stream.encode(frame):
                self._mux(packet)

    def _mux(self, packet) -> None:
        if packet.pts is not None:
            self._muxer.pump(float(packet.pts * packet.time_base))
        self._muxer.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder, copy the remaining audio/subtitles and close the file."""
        with _plain_errors(self._muxer.path, self.settings.codec):
            for packet in self._stream.encode(None):
                self._mux(packet)
            self._muxer.finish()

    def abort(self) -> None:
        """Close without flushing (the file is incomplete; the caller removes it)."""
        try:
            self._muxer.close()
        except Exception:  # noqa: BLE001 - best effort on an already failing path
            pass


class FrameFolderWriter:
    """Write frames as ``000000.png``, ``000001.png``… into ``folder`` (16-bit PNG for
    uint16 frames). The pts argument of :meth:`write` is ignored: files are numbered in
    order."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.warnings: list[str] = []

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        import cv2

        path = self.folder / f"{self.count:06d}.png"
        ok, data = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
        if not ok:
            raise InputError(f"cannot encode {path}")
        with open(path, "wb") as handle:  # an OSError says why (cv2.imwrite only says False)
            handle.write(data.tobytes())
        self.count += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass
