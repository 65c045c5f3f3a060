"""The ``rrin`` command: a thin layer over the library.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``handler`` to a function ``(args) -> int``. Library errors the user can fix
(:class:`rrin.errors.RRINError`) and usage errors (a bad option value, checked where it is
parsed) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
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
        return int(args.handler(args) or 0)
    except RRINError as exc:
        print(f"rrin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rrin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`rrin models | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout must not fail again
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
