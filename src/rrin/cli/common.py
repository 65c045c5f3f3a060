"""Options and argument types shared by several subcommands."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--device``, ``--precision`` and ``--backend``."""
    parser.add_argument("--model", "-m", default=None, metavar="NAME|PATH",
                        help="shipped model name (see 'rrin models') or weights file; default: the device's default model")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N (default: auto)")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"),
                        help="numeric precision (default: fp16 on CUDA, fp32 on CPU)")
    parser.add_argument("--backend", default="auto",
                        choices=("auto", "eager", "eager-nchw", "compile", "onnxruntime", "openvino"),
                        help="inference engine (default auto: on CPU openvino, else onnxruntime when installed, "
                             "else eager; eager on GPU); see docs/speed.md")


def time_step(text: str) -> float:
    """argparse type: a float strictly inside (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value
