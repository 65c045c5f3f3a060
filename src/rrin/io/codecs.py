"""Which encoder, pixel format and options an output file gets (:class:`EncodeSettings`).

:data:`CODECS` are the encoders ``--codec`` offers; :func:`output_codec` picks the
container's natural one when none is given (VP9 for WebM, H.264 otherwise) and refuses a
codec the container cannot hold before anything is computed; :func:`choose_pix_fmt` keeps
the source's pixel format family and depth where the encoder allows and the frame size fits.

Pixel shape and rotation (measured with PyAV 18.1 / FFmpeg 8, 128:117 and 90°): the
sample aspect ratio survives in the bitstream of libx264/libx265 (any container) and in
MP4/MOV for every codec, but not for VP9, AV1 or FFV1 in Matroska, WebM, AVI or NUT
(PyAV cannot set the stream field those muxers read); the display matrix survives in
MP4, MKV, WebM and MOV, not in AVI or NUT. :func:`encode_warnings` names what is lost.

Odd frame sizes (measured with PyAV 18 / FFmpeg 8, 33×17, 65×49, 720×405): libvpx-vp9,
libsvtav1 and ffv1 encode 4:2:0 at any size, but libx264 and libx265 refuse chroma planes
that do not cover whole pixel pairs (4:2:0 needs an even width and height, 4:2:2 an even
width). For those two the output keeps its exact size in the most subsampled format that
fits (4:2:2 when only the height is odd, else 4:4:4), at the source's depth, and
:func:`encode_warnings` says so: browsers and QuickTime play H.264/HEVC only in 4:2:0,
VP9 and AV1 keep 4:2:0 at every size.

libx265 (x265 4.2 in PyAV 18.1's wheels) corrupts its heap and aborts the process on frames
33 to 48 pixels wide, even or odd, 4:2:0 or 4:4:4, at heights from 16 to 300 (at random:
most sizes under 65 rows, some taller ones); with its CU-tree off (``cutree=0``) none of
them crashed, so :func:`codec_options` turns it off for frames with a side of
:data:`X265_SMALL` pixels or less.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..errors import InputError
from ..options import CODECS
from .video import ColorInfo

__all__ = ["CODECS", "EncodeSettings", "VIDEO_EXTENSIONS", "check_container", "output_codec", "choose_pix_fmt", "fits",
           "codec_options", "encode_warnings"]

# CODECS (rrin.options): the encoders --codec offers and their default CRF; the first one a
# container holds is its default (:func:`output_codec`).

#: Output extensions and the FFmpeg muxer each means.
VIDEO_EXTENSIONS = {".mp4": "mp4", ".mkv": "matroska", ".webm": "webm", ".mov": "mov", ".avi": "avi", ".nut": "nut"}

#: Encoders FFmpeg lists for a container whose header it then refuses ("vp9 only supported
#: in MP4", "av1 only supported in MP4 and AVIF"): measured with FFmpeg 8.
_REFUSED = {".mov": {"libvpx-vp9", "libsvtav1"}}

#: Where the pixel shape survives: in the bitstream of these encoders, or in these containers.
_SAR_CODECS, _SAR_CONTAINERS = {"libx264", "libx265"}, {".mp4", ".mov"}

#: The containers that store a display matrix (AVI and NUT drop it).
_ROTATING_CONTAINERS = {".mp4", ".mkv", ".webm", ".mov"}

#: Encoders whose 4:2:0 / 4:2:2 pictures must cover whole pixel pairs (no odd sides).
_WHOLE_CHROMA = {"libx264", "libx265"}

#: libx265 runs without its CU-tree on frames with a side this small or smaller.
X265_SMALL = 64


@dataclass(frozen=True)
class EncodeSettings:
    """How to encode the output video stream.

    ``time_base``: the unit of the pts passed to :meth:`VideoWriter.write`; ``rate``: the
    nominal frame rate written into the stream (for VFR output an average);
    ``sample_aspect_ratio``: the shape of a pixel (None: unspecified, square);
    ``display_matrix``: FFmpeg's nine-integer display matrix (the rotation or flip players
    apply; None: upright).
    """

    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    codec: str = "libx264"
    crf: int | None = None
    pix_fmt: str = "yuv420p"
    color: ColorInfo = field(default_factory=ColorInfo)
    sample_aspect_ratio: Fraction | None = None
    display_matrix: tuple[int, ...] | None = None

    @property
    def deep(self) -> bool:
        return any(tag in self.pix_fmt for tag in ("p10", "p12", "p16"))


def check_container(path: Path) -> str:
    """The extension of ``path`` (lower case) when it names a known container, else
    :class:`InputError`."""
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise InputError(f"unknown output extension {suffix or '(none)'!r}: use {', '.join(sorted(VIDEO_EXTENSIONS))} or a folder")
    return suffix


def _held_codecs(suffix: str) -> list[str]:
    """The :data:`CODECS` the container of ``suffix`` can hold, in :data:`CODECS` order."""
    with av.open(os.devnull, "w", format=VIDEO_EXTENSIONS[suffix]) as container:
        supported = container.supported_codecs
    return [codec for codec in CODECS if codec in supported and codec not in _REFUSED.get(suffix, ())]


def output_codec(path: str | os.PathLike, codec: str | None = None) -> str:
    """The encoder for a video file ``path``: ``codec``, checked against the container,
    or (``None``) the first of :data:`CODECS` the container holds (libx264; libvpx-vp9 for
    .webm). :class:`InputError` for an unknown codec or one the container cannot hold."""
    suffix = check_container(Path(path))
    if codec is not None and codec not in CODECS:
        raise InputError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})")
    held = _held_codecs(suffix)
    if codec is None:
        return held[0]
    if codec not in held:
        raise InputError(f"a {suffix} file cannot hold {codec} video: choose --codec {' or '.join(held)}, "
                         "or another extension")
    return codec


def _subsampling(pix_fmt: str) -> tuple[int, int]:
    """(horizontal, vertical) chroma subsampling factors of a pixel format: (2, 2) for 4:2:0."""
    fmt = av.VideoFormat(pix_fmt)
    return 64 // fmt.chroma_width(64), 64 // fmt.chroma_height(64)


def _depth(pix_fmt: str) -> int:
    return max(c.bits for c in av.VideoFormat(pix_fmt).components)


def fits(pix_fmt: str, width: int, height: int) -> bool:
    """Whether ``pix_fmt``'s chroma planes cover whole pixels of a ``width``×``height`` frame."""
    x, y = _subsampling(pix_fmt)
    return width % x == 0 and height % y == 0


def choose_pix_fmt(codec: str, source_pix_fmt: str, bit_depth: int, width: int | None = None,
                   height: int | None = None) -> str:
    """The output pixel format: the source's when the codec takes it, else 4:2:0 at the
    source's depth (10-bit where the codec supports it), else yuv420p. With a frame size,
    for libx264/libx265 at odd sizes: the most subsampled format of that depth that fits
    (see the module's notes)."""
    try:
        formats = [f.name for f in av.codec.Codec(codec, "w").video_formats or []]
    except Exception:  # noqa: BLE001 - any failure here means FFmpeg has no such encoder
        raise InputError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})") from None
    source = source_pix_fmt.replace("yuvj", "yuv")
    chosen = "yuv420p"
    if source in formats and source.startswith("yuv") and "a" not in source[3:5]:
        chosen = source
    elif bit_depth > 8:
        chosen = next((c for c in ("yuv420p10le", "yuv420p12le", "yuv420p16le") if c in formats), "yuv420p")
    if codec not in _WHOLE_CHROMA or width is None or height is None or fits(chosen, width, height):
        return chosen
    candidates = [f for f in formats if f.startswith("yuv") and not f.startswith(("yuvj", "yuva"))
                  and _depth(f) == _depth(chosen) and fits(f, width, height)]
    return max(candidates, key=lambda f: _subsampling(f)[0] * _subsampling(f)[1], default=chosen)


def codec_options(codec: str, crf: int | None, width: int = 0, height: int = 0) -> dict[str, str]:
    """Encoder options: the CRF (the codec's default when ``crf`` is None; none for
    ffv1), constant-quality mode for VP9, quiet x265 (and without its CU-tree on frames
    with a side of :data:`X265_SMALL` pixels or less: see the module's notes)."""
    crf = CODECS.get(codec) if crf is None else crf
    options = {} if crf is None or codec == "ffv1" else {"crf": str(crf)}
    if codec == "libvpx-vp9":
        options["b"] = "0"
    if codec == "libx265":
        options["x265-params"] = "log-level=error" + (":cutree=0" if 0 < min(width, height) <= X265_SMALL else "")
    return options


def encode_warnings(settings: EncodeSettings, suffix: str) -> list[str]:
    """What a user should know about writing ``settings`` into a ``suffix`` file: an odd
    size that libx264/libx265 store as 4:2:2 or 4:4:4, a pixel shape or a rotation the
    file cannot keep (measured: see the module's notes)."""
    codec, width, height = settings.codec, settings.width, settings.height
    warnings = []
    if codec in _WHOLE_CHROMA and _subsampling(settings.pix_fmt) != (2, 2) and not fits("yuv420p", width, height):
        warnings.append(f"{width}x{height} has an odd side, which {codec} cannot store as 4:2:0: encoded as "
                        f"{settings.pix_fmt} at the exact size (players such as VLC and mpv show it; browsers and "
                        "QuickTime may not: --codec libvpx-vp9 or libsvtav1 keep 4:2:0 at any size)")
    sar = settings.sample_aspect_ratio
    if sar and sar != 1 and codec not in _SAR_CODECS and suffix not in _SAR_CONTAINERS:
        warnings.append(f"the pixel aspect ratio {sar.numerator}:{sar.denominator} is not kept: a {suffix} file "
                        f"with {codec} cannot store it (.mp4 and .mov can, and libx264/libx265 in any container)")
    if settings.display_matrix is not None and suffix not in _ROTATING_CONTAINERS:
        warnings.append(f"the rotation is not kept: a {suffix} file cannot store it (.mp4, .mkv, .webm and .mov can)")
    return warnings
