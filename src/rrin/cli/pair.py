"""``rrin pair``: frames between two images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import add_model_options, positive_int, time_step


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pair",
        help="interpolate between two images",
        description="Write the frame at time T between IMG0 (t=0) and IMG1 (t=1), or N evenly spaced frames.",
        epilog="example: rrin pair a.png b.png -o middle.png    |    rrin pair a.png b.png -o mid.png --count 3",
    )
    parser.add_argument("img0", type=Path, help="first image (t = 0)")
    parser.add_argument("img1", type=Path, help="second image (t = 1)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="output image; with --count N, written as NAME_1.EXT … NAME_N.EXT")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--t", type=time_step, default=None, help="time step in (0, 1) (default 0.5)")
    when.add_argument("--count", type=positive_int, default=None, help="N evenly spaced frames at t = k/(N+1)")
    add_model_options(parser)
    parser.add_argument("--explain", type=Path, default=None, metavar="DIR",
                        help="also write pictures of the flows, weight maps, warped frames and residue")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files (and --explain pictures)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the output paths and errors")
    parser.set_defaults(handler=run)


def output_paths(output: Path, count: int | None) -> list[Path]:
    if count is None:
        return [output]
    digits = len(str(count))
    return [output.with_name(f"{output.stem}_{k:0{digits}d}{output.suffix}") for k in range(1, count + 1)]


def run(args: argparse.Namespace) -> int:
    from ..inference import Interpolator, write_explanation
    from ..inference.explain import explanation_paths
    from ..io import check_writable, read_image, write_image
    from ..io.images import IMAGE_EXTENSIONS
    from ..errors import InputError

    if args.output.suffix.lower() not in IMAGE_EXTENSIONS:
        raise InputError(f"output {args.output} needs an image extension ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    times = [args.t or 0.5] if args.count is None else [k / (args.count + 1) for k in range(1, args.count + 1)]
    outputs = output_paths(args.output, args.count)
    for path in outputs:
        if path.resolve() in (args.img0.resolve(), args.img1.resolve()):
            raise InputError(f"output {path} would overwrite an input image")
        check_writable(path, args.overwrite)
    if args.explain is not None:  # every output is checked before anything is computed
        explanation_paths(args.explain, args.overwrite)
    img0, img1 = read_image(args.img0), read_image(args.img1)
    interpolator = Interpolator(args.model, device=args.device, precision=args.precision, backend=args.backend)
    results = interpolator.interpolate_images(img0, img1, times)
    for path, (frame, _) in zip(outputs, results):
        write_image(path, frame, overwrite=args.overwrite)
        print(path)
    if args.explain is not None:
        middle = len(results) // 2
        for picture in write_explanation(args.explain, results[middle][1], times[middle]):
            if not args.quiet:
                print(picture, file=sys.stderr)
    return 0
