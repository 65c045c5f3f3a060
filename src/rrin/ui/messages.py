"""What the page says when something is wrong: one plain sentence for a person who does not
use a terminal (no error numbers, no command-line flags, no encoder names, no server paths).

The page's own checks raise :class:`PlainError` with a sentence written for the page; the
library's errors (written for ``rrin interpolate``) are turned into one by :func:`plain_message`.
"""

from __future__ import annotations

import re

from ..errors import InputError, RRINError

__all__ = ["PlainError", "plain_message", "plain_text", "CODEC_NAMES", "UNEXPECTED"]

#: The codecs as the page names them (value: the encoder ``rrin interpolate --codec`` takes).
CODEC_NAMES = {
    "libx264": "H.264 MP4 — plays everywhere",
    "libx265": "H.265 MP4 — smaller file, newer players",
    "libsvtav1": "AV1 MP4 — smallest file, slow to make",
    "libvpx-vp9": "VP9 WebM — for web pages",
    "ffv1": "Lossless MKV — very large, for editing",
}

UNEXPECTED = "Something went wrong on the computer running this page; the details are in its window."


class PlainError(InputError):
    """A user's error whose message is already one plain sentence for the page."""


def _short(name: str) -> str:
    return name.split("/")[-1]


#: (pattern on the library's message, the page's sentence) — first match wins.
_RULES: list[tuple[re.Pattern, str]] = [(re.compile(pattern, re.IGNORECASE), sentence) for pattern, sentence in [
    (r"^(?:video )?(?P<name>.+?) is not a readable video\b", "{name} is not a video this page can read."),
    (r"^(?:image )?(?P<name>.+?) is not a readable image\b", "{name} is not a picture this page can read."),
    (r"^(?P<name>.+?) has no video stream", "{name} has no video in it."),
    (r"^(?P<name>.+?) is gone", "{name} is no longer on the computer running this page: upload it again."),
    (r"the input has \d+ frame\(s\): at least 2", "The video needs at least two frames."),
    (r"no shipped weights", "No model is installed: whoever started this page must name one when starting it."),
    (r"cannot encode with", "The video could not be written in the chosen format: try “H.264 MP4”."),
    (r"cannot write", "The result could not be saved on the computer running this page (is its disk full?)."),
    (r"(?:out of memory|not enough memory|cannot allocate)", "The computer running this page ran out of memory: "
                                                             "try a shorter or smaller video."),
    (r"^the page can only read uploads|can only read uploads", "Only files uploaded to this page can be used: "
                                                                "upload the file, then try again."),
    (r"(?:weights|checkpoint|model)\b.*(?:corrupt|does not fit|not a|unknown)", "The model could not be loaded: "
                                                                               "choose another one."),
]]
_ERRNO = re.compile(r"\s*\[Errno -?\d+\]\s*")
_FLAG = re.compile(r"\s*--[a-z][a-z-]*")


def plain_message(exc: BaseException, relative=lambda text: text) -> str:
    """One plain sentence for ``exc``. ``relative`` cuts server paths out of a message
    (:meth:`rrin.ui.workspace.Workspace.relative_message`); anything that is not a user's
    error (:class:`rrin.errors.RRINError`) is :data:`UNEXPECTED`."""
    if isinstance(exc, PlainError):
        return str(exc)
    if not isinstance(exc, RRINError):
        return UNEXPECTED
    text = relative(str(exc))
    for pattern, sentence in _RULES:
        found = pattern.search(text)
        if found:
            return sentence.format(**{key: _short(value) for key, value in found.groupdict().items()})
    return plain_text(text)


def plain_text(text: str) -> str:
    """A library message (an error or a warning) as a sentence: no error numbers, no flags,
    the codecs as the page names them, the first clause only, capitalised, a full stop."""
    text = _ERRNO.sub(" ", text)
    text = _FLAG.sub("", text)
    for codec, name in CODEC_NAMES.items():
        text = text.replace(codec, f"“{name.split(' — ')[0]}”")
    text = text.split("; ")[0].split(": [")[0].strip(" :;,.") or "That did not work"
    return text[0].upper() + text[1:] + "."
