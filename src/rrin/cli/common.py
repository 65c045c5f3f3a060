"""The parser class, options and argument types shared by several subcommands.

Every option is checked where it is parsed (``type=`` below), so a bad value is refused
before any file is opened or any model loaded: one line ``rrin CMD: error: …`` and exit
code 2, never a traceback from deep inside a library.

Building the parser and reporting a usage error import no heavy library (PyTorch, OpenCV,
PyAV, NumPy, Gradio, Ray, OpenVINO): the modules imported here are light, and each
subcommand imports what it runs inside its handler (tests/test_cli_startup.py checks).
"""

from __future__ import annotations

import argparse
import math
from typing import Callable, NoReturn

from ..errors import InputError
from ..inference.schedule import parse_rate
from ..options import BACKENDS, PRECISIONS, parse_size


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (no usage block) and exit 2.

    Subparsers made by :meth:`add_subparsers` are of this class too.
    """

    def error(self, message: str) -> NoReturn:
        text = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {text} (see '{self.prog} --help')\n")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--device``, ``--precision`` and ``--backend``."""
    parser.add_argument("--model", "-m", default=None, metavar="NAME|PATH",
                        help="shipped model name (see 'rrin models') or weights file; default: the device's default model")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="auto (CUDA if available), cpu, cuda, cuda:N (default: auto)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="numeric precision (default: fp16 on CUDA; bf16 with OpenVINO for DIS models on CPUs with native BF16; else fp32)")
    parser.add_argument("--backend", default="auto", choices=("auto", *BACKENDS),
                        help="inference engine (default auto: on CPU openvino, else onnxruntime when installed, "
                             "else eager; eager on GPU); see docs/speed.md")


def _number(text: str, kind: Callable[[str], float | int]) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def time_step(text: str) -> float:
    """argparse type: a float strictly inside (0, 1)."""
    value = _number(text, float)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer ≥ ``minimum``."""
    def parse(text: str) -> int:
        value = _number(text, int)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text}")
        return value
    return parse


#: argparse types: an integer ≥ 1, ≥ 0, ≥ 2 (interpolation factors).
positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
factor_int = int_at_least(2)


def float_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float in the interval from ``low`` to ``high`` (``math.inf``
    for no bound), each end closed unless ``*_open``."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    def parse(text: str) -> float:
        value = _number(text, float)
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            if high == math.inf:
                bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
                raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
            raise argparse.ArgumentTypeError(f"must be in {left}{low:g}, {high:g}{right}, got {text}")
        return value
    return parse


def frame_rate(text: str):
    """argparse type: a positive frame rate (``60``, ``59.94``, ``24000/1001``) as a Fraction."""
    try:
        return parse_rate(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def frame_size(text: str) -> tuple[int, int]:
    """argparse type: ``WxH`` → (width, height), each at least 8."""
    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def device_name(text: str) -> str:
    """argparse type: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (whether it exists is checked
    when the model is loaded)."""
    kind, _, index = text.partition(":")
    if text == "auto" or (kind in ("cpu", "cuda") and (not index or (index.isdigit() and kind == "cuda"))):
        return text
    raise argparse.ArgumentTypeError(f"unknown device {text!r}; use auto, cpu, cuda or cuda:N")
