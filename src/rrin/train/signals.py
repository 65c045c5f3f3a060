"""Stopping a training run cleanly on Ctrl-C or SIGTERM.

The first signal only asks: the loop finishes the step it is in, writes a checkpoint and
returns, so ``rrin train --resume`` continues exactly there (a scheduler's SIGTERM gets the
same treatment). A second Ctrl-C interrupts at once, as usual. Data-loading workers ignore
both signals (a terminal's Ctrl-C and many schedulers' SIGTERM reach every process of the
job), so the last batches still arrive; they exit with the trainer as always.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["stop_requests", "ignore_interrupts"]


@contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """An event set by the first SIGINT or SIGTERM received inside the ``with`` block.

    Handlers can only be installed from the main thread; elsewhere the event is never set
    and signals keep their usual effect.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def ask_to_stop(signum, frame) -> None:
        if requested.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        requested.set()

    previous = {number: signal.signal(number, ask_to_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield requested
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def ignore_interrupts(worker_id: int = 0) -> None:
    """A DataLoader ``worker_init_fn``: the worker leaves Ctrl-C and SIGTERM to the trainer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
