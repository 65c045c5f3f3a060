"""Progress on the terminal (``tqdm``) and the CLI's logging: one home for both.

Every long command shows its progress with :class:`ProgressBar` and routes the library's
log records (``logging.getLogger("rrin…")``: first-use graph exports, memory settings) to
stderr with :func:`setup_logging`. Both stay quiet with ``-q/--quiet``; the bar is also off
when stderr is not a terminal (a log file or a pipe gets no carriage returns).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["ProgressBar", "setup_logging", "wants_bar"]


def wants_bar(stream: TextIO, quiet: bool) -> bool:
    """Whether to draw a bar on ``stream``: not ``quiet`` and ``stream`` is a terminal."""
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


class ProgressBar:
    """Call with the number of items done (and, optionally, the total); ``total`` may also
    be set (or stay None) later. Draws a tqdm bar at most 5 times a second, only when
    ``enabled``; the clock starts at the first call, so set-up time is not counted."""

    def __init__(self, stream: TextIO, enabled: bool, total: int | None = None, unit: str = "frame",
                 desc: str | None = None) -> None:
        self.stream, self.enabled, self.unit, self.desc = stream, enabled, unit, desc
        self._total = total
        self._bar: tqdm | None = None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total = value
        if self._bar is not None and value != self._bar.total:
            self._bar.total = value
            self._bar.refresh()

    def __call__(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """``note``: a short text shown after the bar (e.g. the latest loss) until the next one."""
        if not self.enabled:
            return
        if total is not None:
            self.total = total
        if self._bar is None:
            from tqdm import tqdm  # here, not at the top: usage errors answer without it

            self._bar = tqdm(total=self._total, initial=done, file=self.stream, unit=self.unit, desc=self.desc,
                             mininterval=0.2, dynamic_ncols=True, leave=True)
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(done - self._bar.n)

    def write(self, message: str) -> None:
        """Print ``message`` as a line of its own on the stream, above the bar if one is drawn."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def setup_logging(quiet: bool, stream: TextIO | None = None) -> None:
    """Send the ``rrin`` loggers' records to ``stream`` (default: stderr) as
    ``rrin: MESSAGE`` lines: INFO and above, or only warnings when ``quiet``.

    Replaces the handler an earlier call installed (``main`` may run several times in one
    process, as in the tests)."""
    logger = logging.getLogger("rrin")
    for handler in [h for h in logger.handlers if getattr(h, "rrin_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.rrin_cli = True
    handler.setFormatter(logging.Formatter("rrin: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
