"""The ``rrin`` command: a thin layer over the library.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``handler`` to a function ``(args) -> int``. Library errors the user can fix
(:class:`rrin.errors.RRINError`) and usage errors (a bad option value, checked where it is
parsed) become one line on stderr and exit code 2. SIGTERM (``timeout``, ``docker stop``)
and SIGHUP (a closed terminal) stop a command as Ctrl-C does: the library's cleanup runs
(temporary files removed, finished ``--resume`` segments kept), one line, exit code 128 +
the signal's number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from typing import Sequence

from .. import __version__
from ..errors import RRINError
from .common import Parser
from .progress import setup_logging

__all__ = ["main", "build_parser"]

#: Subcommand modules, in the order ``rrin --help`` lists them.
COMMAND_MODULES = ("interpolate", "pair", "models", "evaluate", "make-dataset", "train", "export-weights", "export", "ui")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rrin",
        description="Video frame interpolation with RRIN: slow motion, frame-rate conversion, training and evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"rrin {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    setup_logging(quiet=getattr(args, "quiet", False))
    try:
        with _stop_signals():
            return int(args.handler(args) or 0)
    except RRINError as exc:
        print(f"rrin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        number = exc.signal if isinstance(exc, Stopped) else signal.SIGINT
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            print("rrin: interrupted" + (f" ({signal.Signals(number).name})" if number != signal.SIGINT else ""),
                  file=sys.stderr)
        return 128 + int(number)
    except BrokenPipeError:  # the reader went away (`rrin models | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout must not fail again
        return 141
    except OSError as exc:  # a full disk outside the library's writes (which name their output)
        from ..io.atomic import NO_SPACE

        if exc.errno not in NO_SPACE:
            raise
        print(f"rrin: error: {NO_SPACE[exc.errno]} while writing {exc.filename or 'the output'}", file=sys.stderr)
        return 2


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGHUP: handled everywhere as Ctrl-C is."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.signal = number


#: The signals that stop a command as Ctrl-C does.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _stop_signals():
    """While the block runs, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread
    (once: a second one while cleaning up is ignored); the previous handlers come back after.
    Nothing changes when called outside the main thread (signals go to the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number, frame):
        for name in STOP_SIGNALS:
            signal.signal(name, signal.SIG_IGN)
        raise Stopped(number)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)  # None: set outside Python


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
