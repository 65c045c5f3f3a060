"""``rrin export-weights``: a training checkpoint → shipping safetensors."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("export-weights", help="turn a training checkpoint into a safetensors weights file",
                                   description="Export the EMA (default) or raw weights of a training checkpoint.")
    parser.add_argument("checkpoint", type=Path, help="training checkpoint (e.g. RUN/checkpoints/best.pt)")
    parser.add_argument("out", type=Path, help="output .safetensors file")
    parser.add_argument("--raw", action="store_true", help="export the raw weights instead of the EMA")
    parser.add_argument("--fp32", action="store_true", help="store float32 (default float16)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..train.export import export_weights

    path = export_weights(args.checkpoint, args.out, ema=not args.raw, half=not args.fp32, overwrite=args.overwrite)
    print(path)
    return 0
