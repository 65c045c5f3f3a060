"""FFmpeg's errors (as PyAV raises them) in the plain words a user reads.

PyAV's ``str()`` of an error is ``[Errno 1094995529] Invalid data found when processing
input: 'avcodec_open2("libx264", {'crf': '18'})'``: an internal error code and, often, the
FFmpeg call that failed. :func:`ffmpeg_message` keeps the sentence and drops both.
"""

from __future__ import annotations

import re

__all__ = ["ffmpeg_message"]

_ERRNO = re.compile(r"^\s*\[Errno -?\d+\]\s*")


def ffmpeg_message(exc: BaseException) -> str:
    """``exc`` as a sentence without ``[Errno N]`` codes or the FFmpeg call it names,
    starting lower-case so that it reads after a colon (``"invalid data found when
    processing input"``)."""
    text = getattr(exc, "strerror", None) or _ERRNO.sub("", str(exc)) or type(exc).__name__
    text = _ERRNO.sub("", str(text)).strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text
