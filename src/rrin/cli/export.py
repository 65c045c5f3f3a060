"""``rrin export``: write a model as an ONNX file, checked against PyTorch."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .common import float_in


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX (dynamic size, t as input, parity-checked)",
        description=(
            "Write MODEL as an ONNX graph img_t = f(img0, img1, t): img0/img1 (B,3,H,W) float32 RGB in "
            "[0,1] of any size (padded inside the graph), t (B,) float32 in (0,1). The file is run with "
            "ONNX Runtime and compared with PyTorch before it is kept; the maximum absolute difference "
            "is printed."
        ),
        epilog="example: rrin export --format onnx rrin-dis-lite model.onnx    |    rrin export weights.safetensors out.onnx --graph flows",
    )
    parser.add_argument("model", metavar="MODEL", help="shipped model name (see 'rrin models') or weights file")
    parser.add_argument("output", type=Path, metavar="OUT.onnx", help="the ONNX file to write")
    parser.add_argument("--format", default="onnx", choices=("onnx",), help="export format (default: onnx)")
    parser.add_argument("--graph", default="model", choices=("model", "flows", "synthesize"),
                        help="the whole model (default), or one of the two halves the runtime backends use "
                             "(these take padded inputs)")
    parser.add_argument("--refine-levels", type=int, default=0, metavar="N",
                        help="run the refinement U-Nets on inputs halved N times, fixed in the graph (default 0: "
                             "full size; rrin itself uses 1 for frames above 960 px with the shipped default)")
    parser.add_argument("--no-check", action="store_true", help="skip the parity check against PyTorch")
    parser.add_argument("--tolerance", type=float_in(0, math.inf, low_open=True), default=1e-3, help="largest accepted difference (default 1e-3)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the output path and errors")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..export import export_onnx
    from ..model.registry import load_model

    if args.output.suffix.lower() != ".onnx":
        raise InputError(f"output {args.output} must end in .onnx")
    model = load_model(args.model, "cpu")
    result = export_onnx(model, args.output, graph=args.graph, check=not args.no_check,
                         tolerance=args.tolerance, overwrite=args.overwrite, levels=args.refine_levels)
    print(result.path)
    if result.max_abs_diff is not None and not args.quiet:
        height, width = result.check_size
        print(f"parity with PyTorch at {width}x{height}: max abs difference {result.max_abs_diff:.3g} "
              f"(tolerance {args.tolerance:g})")
    return 0
