"""Encoding video files with PyAV, and writing frame folders.

:class:`VideoWriter` encodes RGB frames (uint8, or uint16 for deep colour) with one of
:data:`CODECS`, keeping the source's pixel format family, bit depth where the codec allows
and colour metadata (range, matrix, primaries, transfer), and copies the source's audio and
subtitle streams packet by packet, interleaved by time. A stream the output container cannot
hold is re-encoded (audio: AAC, or Opus for WebM) or dropped (subtitles), and the writer says
so in :attr:`VideoWriter.warnings`.

Joining closed segments into one file is :mod:`rrin.io.concat`, which muxes through the
same :class:`_Muxer` (audio/subtitle copy).

Default quality: ``crf`` 18 for libx264/libx265 (visually lossless for most material),
31 for libvpx-vp9 and 30 for libsvtav1; ffv1 is lossless and ignores it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InputError
from .video import ColorInfo

__all__ = ["CODECS", "EncodeSettings", "VideoWriter", "FrameFolderWriter", "choose_pix_fmt", "check_container",
           "VIDEO_EXTENSIONS"]

#: Encoders offered by ``--codec`` and their default CRF (None: lossless, no CRF).
CODECS = {"libx264": 18, "libx265": 18, "libvpx-vp9": 31, "libsvtav1": 30, "ffv1": None}
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".nut"}


@dataclass(frozen=True)
class EncodeSettings:
    """How to encode the output video stream.

    ``time_base``: the unit of the pts passed to :meth:`VideoWriter.write`; ``rate``: the
    nominal frame rate written into the stream (for VFR output an average).
    """

    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    codec: str = "libx264"
    crf: int | None = None
    pix_fmt: str = "yuv420p"
    color: ColorInfo = field(default_factory=ColorInfo)

    @property
    def deep(self) -> bool:
        return any(tag in self.pix_fmt for tag in ("p10", "p12", "p16"))


def choose_pix_fmt(codec: str, source_pix_fmt: str, bit_depth: int) -> str:
    """The output pixel format: the source's when the codec takes it, else 4:2:0 at the
    source's depth (10-bit where the codec supports it), else yuv420p."""
    try:
        formats = [f.name for f in av.codec.Codec(codec, "w").video_formats or []]
    except Exception:  # noqa: BLE001 - unknown codec names are caught by the caller
        raise InputError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})") from None
    source = source_pix_fmt.replace("yuvj", "yuv")
    if source in formats and source.startswith("yuv") and "a" not in source[3:5]:
        return source
    if bit_depth > 8:
        for candidate in ("yuv420p10le", "yuv420p12le", "yuv420p16le"):
            if candidate in formats:
                return candidate
    return "yuv420p"


def check_container(path: Path) -> str:
    """The muxer for ``path``'s extension, or :class:`InputError`."""
    suffix = path.suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise InputError(f"unknown output extension {suffix or '(none)'!r}: use {', '.join(sorted(VIDEO_EXTENSIONS))} or a folder")
    return suffix


def _codec_options(codec: str, crf: int | None) -> dict[str, str]:
    crf = CODECS.get(codec) if crf is None else crf
    options = {} if crf is None or codec == "ffv1" else {"crf": str(crf)}
    if codec == "libvpx-vp9":
        options["b"] = "0"
    if codec == "libx265":
        options["x265-params"] = "log-level=error"
    return options


def _open_output(path: Path) -> av.container.OutputContainer:
    try:
        return av.open(str(path), "w")
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(f"cannot write {path}: {exc}") from None


class _Muxer:
    """An output container whose non-video streams are copied from ``source``."""

    def __init__(self, path: Path, source: Path | None) -> None:
        self.path = Path(path)
        self.container = _open_output(self.path)
        self.warnings: list[str] = []
        self._source = None
        self._copies: list[tuple] = []  # (source stream, output stream, resampler or None)
        if source is not None and Path(source).is_file():
            self._source = av.open(str(source))
            for stream in self._source.streams:
                if stream.type in ("audio", "subtitle"):
                    self._add_copy(stream)
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
        self._muxer = _Muxer(Path(path), source)
        self.warnings = self._muxer.warnings
        try:
            stream = self._muxer.container.add_stream(settings.codec, rate=settings.rate,
                                                      options=_codec_options(settings.codec, settings.crf))
        except (av.error.FFmpegError, ValueError, KeyError) as exc:
            self._muxer.close()
            raise InputError(f"cannot encode with {settings.codec}: {exc}") from None
        stream.width, stream.height = settings.width, settings.height
        stream.pix_fmt = settings.pix_fmt
        stream.time_base = settings.time_base
        stream.codec_context.time_base = settings.time_base
        color = settings.color
        context = stream.codec_context
        for name in ("color_range", "colorspace", "color_primaries", "color_trc"):
            try:
                setattr(context, name, getattr(color, name))
            except (ValueError, TypeError, AttributeError):
                pass
        self._stream = stream
        self._rgb_format = "rgb48le" if settings.deep else "rgb24"
        self._reformat = dict(format=settings.pix_fmt, dst_color_range=2 if color.color_range == 2 else 1)
        if color.colorspace not in (0, 2):
            self._reformat["dst_colorspace"] = color.colorspace

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
        for packet in self._stream.encode(frame):
            self._mux(packet)

    def _mux(self, packet) -> None:
        if packet.pts is not None:
            self._muxer.pump(float(packet.pts * packet.time_base))
        self._muxer.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder, copy the remaining audio/subtitles and close the file."""
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
