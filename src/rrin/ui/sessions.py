"""Which browser tab (Gradio session) has a job waiting or running, so that Cancel speaks only
when there is something to cancel and closing a tab stops its job.

Nothing here knows about Gradio: a session is the string Gradio calls ``session_hash``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Iterator

__all__ = ["Sessions"]

#: Tabs remembered as closed (a job of theirs still in the queue is refused when it starts).
_CLOSED_MEMORY = 1000


class Sessions:
    """Thread-safe book of each session's pending and running jobs.

    A job is *pending* from the click that asks for it until its handler starts (it may wait
    in the queue), then *running* with a cancel event until it ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._withdrawn: dict[str, int] = {}  # pending jobs cancelled before their handler started
        self._running: dict[str, set[threading.Event]] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()

    def ask(self, session: str | None) -> None:
        """A job was asked for (it may wait in the queue before it runs)."""
        if session is None:
            return
        with self._lock:
            self._closed.pop(session, None)
            self._withdrawn.pop(session, None)  # a new click: the cancelled ones are gone
            self._pending[session] = self._pending.get(session, 0) + 1

    @contextlib.contextmanager
    def running(self, session: str | None, cancel: threading.Event) -> Iterator[None]:
        """The block runs ``session``'s job; ``cancel`` is set if the tab closes meanwhile
        (or has closed already), or if the job was cancelled while it waited to start (Gradio
        may start a queued handler that its Cancel did not reach in time)."""
        with self._lock:
            if session is not None:
                if self._pending.get(session, 0) > 0:
                    self._pending[session] -= 1
                elif self._withdrawn.get(session, 0) > 0:
                    self._withdrawn[session] -= 1
                    cancel.set()
                self._running.setdefault(session, set()).add(cancel)
                if session in self._closed:
                    cancel.set()
        try:
            yield
        finally:
            with self._lock:
                events = self._running.get(session)
                if events is not None:
                    events.discard(cancel)
                    if not events:
                        del self._running[session]
                if session is not None and not self._pending.get(session):
                    self._pending.pop(session, None)

    def busy(self, session: str | None) -> bool:
        """True if ``session`` has a job pending or running."""
        with self._lock:
            return bool(self._pending.get(session)) or bool(self._running.get(session))

    def running_jobs(self) -> int:
        """How many jobs run now, all tabs together."""
        with self._lock:
            return sum(len(events) for events in self._running.values())

    def cancel(self, session: str | None) -> bool:
        """Stop ``session``'s running jobs and forget its pending ones; True if there were any."""
        with self._lock:
            pending = self._pending.pop(session, 0)
            if pending and session is not None:
                self._withdrawn[session] = self._withdrawn.get(session, 0) + pending
            had = bool(pending)
            for event in self._running.get(session, ()):
                event.set()
                had = True
        return had

    def close(self, session: str | None) -> bool:
        """The tab closed: :meth:`cancel`, and refuse its jobs that start later."""
        if session is None:
            return False
        had = self.cancel(session)
        with self._lock:
            self._closed[session] = None
            while len(self._closed) > _CLOSED_MEMORY:
                self._closed.popitem(last=False)
        return had
