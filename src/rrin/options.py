"""The values options accept and their defaults, importable without the heavy libraries.

``rrin --help`` and a usage error must answer at once, so building the command line's parser
imports neither PyTorch, OpenCV, PyAV nor NumPy. The names and defaults it shows live here;
the modules that use them (:mod:`rrin.inference.device`, :mod:`rrin.inference.backends`,
:mod:`rrin.inference.scenes`, :mod:`rrin.io.video_writer`, :mod:`rrin.data.make_dataset`)
import them from here and re-export them, so either home works. Keep this module free of
imports beyond the standard library and :mod:`rrin.errors`.
"""

from __future__ import annotations

from .errors import InputError

__all__ = ["PRECISIONS", "BACKENDS", "CODECS", "DEFAULT_SCENE_THRESHOLD", "DEFAULT_DEDUP_THRESHOLD", "CUT_MODES", "CLIP_LENGTHS", "parse_size"]

#: Every precision name ``--precision`` and ``train.precision`` accept.
PRECISIONS = ("auto", "fp32", "fp16", "bf16")

#: Every backend name ``--backend`` accepts, besides ``auto`` (see :mod:`rrin.inference.backends`).
BACKENDS = ("eager", "eager-nchw", "compile", "onnxruntime", "openvino")

#: Encoders offered by ``--codec`` and their default CRF (None: lossless, no CRF).
CODECS = {"libx264": 18, "libx265": 18, "libvpx-vp9": 31, "libsvtav1": 30, "ffv1": None}

#: Thumbnail difference above which a pair is a scene cut, and at or below which a frame is a
#: duplicate (how they were chosen: :mod:`rrin.inference.scenes`).
DEFAULT_SCENE_THRESHOLD = 0.12
DEFAULT_DEDUP_THRESHOLD = 0.002

#: What a frame across a cut shows (``--on-cut``); the first is the default (see
#: :func:`rrin.inference.scenes.cut_frame`).
CUT_MODES = ("nearest", "repeat", "blend")

#: Frames per training clip that make-dataset writes and training reads (9: ``random_span``
#: up to 8 frames).
CLIP_LENGTHS = (3, 7, 9)


def parse_size(text: str) -> tuple[int, int]:
    """``"448x256"`` → (448, 256); :class:`InputError` unless WIDTHxHEIGHT, each at least 8."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"size must be WIDTHxHEIGHT (e.g. 448x256), got {text!r}") from None
    if width < 8 or height < 8:
        raise InputError(f"size must be at least 8x8, got {text!r}")
    return width, height
