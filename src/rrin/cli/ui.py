"""``rrin ui``: a local web page for converting videos and interpolating two images."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .common import add_model_options, positive_int


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..ui.server import DEFAULT_MAX_UPLOAD_MB

    parser = subparsers.add_parser(
        "ui",
        help="a local web page: convert videos, interpolate two images (needs the ui extra)",
        description="Serve a web page on this computer for converting videos and interpolating two images, "
                    "with the same options as 'rrin interpolate' and 'rrin pair'. Needs: pip install 'rrin[ui]'.",
        epilog="example: rrin ui --model weights.safetensors   (then open the printed address in a browser)",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only; "
                             "0.0.0.0 lets other machines on the network in, and needs --password-file)")
    parser.add_argument("--port", type=_port, default=7860, help="port (default 7860)")
    add_model_options(parser)
    parser.add_argument("--share-dir", type=Path, default=None, metavar="DIR",
                        help="a folder whose videos the page may list and read")
    parser.add_argument("--max-upload-mb", type=positive_int, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                        help=f"largest upload accepted (default {DEFAULT_MAX_UPLOAD_MB})")
    parser.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                        help="a file whose first line is the page's password (asked for in the browser); "
                             "required with a --host other than this computer")
    parser.set_defaults(handler=run)


def _read_password(path: Path | None) -> str | None:
    """The first line of ``path`` (None for no file); :class:`InputError` if unreadable or empty."""
    from ..errors import InputError

    if path is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--password-file {path}: cannot read it ({exc.__class__.__name__})") from None
    password = lines[0].strip() if lines else ""
    if not password:
        raise InputError(f"--password-file {path}: its first line is empty")
    return password


def run(args: argparse.Namespace) -> int:
    from ..ui.server import UISettings, is_loopback, start

    settings = UISettings(host=args.host, port=args.port, model=args.model, share_dir=args.share_dir,
                          max_upload_mb=args.max_upload_mb, device=args.device, precision=args.precision,
                          backend=args.backend, password=_read_password(args.password_file))
    running = start(settings)
    try:  # SIGTERM and SIGHUP arrive as KeyboardInterrupt (rrin.cli's stop signals)
        print(f"rrin ui: open {running.url} in a browser (Ctrl-C stops it)", flush=True)
        if not is_loopback(args.host):
            print(f"rrin: warning: listening on {args.host}: other machines that can reach it can use the page "
                  "(with the password) and read the shared folder's videos; the password travels unencrypted "
                  "(plain HTTP)", file=sys.stderr, flush=True)
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("rrin ui: stopped", file=sys.stderr)
    finally:
        running.close()
    return 0
