"""A small progress bar for the terminal: done/total, frames per second and ETA."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Call with the number of frames done; ``total`` may be set (or stay None) later.
    Draws at most 5 times a second, only when ``enabled``."""

    def __init__(self, stream: TextIO, enabled: bool, total: int | None = None) -> None:
        self.stream, self.enabled, self.total = stream, enabled, total
        self._start = time.monotonic()
        self._last = 0.0
        self._first_done: int | None = None
        self._drawn = False

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._first_done is None:
            self._first_done, self._start = done, now
        if now - self._last < 0.2 and done != self.total:
            return
        self._last = now
        rate = (done - self._first_done) / max(now - self._start, 1e-9)
        text = f"{done}" + (f"/{self.total}" if self.total else "") + f" frames  {rate:.1f} fps"
        if self.total and rate > 0:
            fraction = min(done / self.total, 1.0)
            filled = int(30 * fraction)
            eta = (self.total - done) / rate
            text = f"[{'#' * filled}{'.' * (30 - filled)}] {text}  ETA {int(eta // 60)}:{int(eta % 60):02d}"
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
