"""``rrin interpolate``: convert a video or a frame folder to more frames per second."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cluster_options import add_cluster_options, convert_maybe_on_cluster
from .common import add_model_options, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..inference.scenes import DEFAULT_DEDUP_THRESHOLD, DEFAULT_SCENE_THRESHOLD
    from ..io.video_writer import CODECS

    parser = subparsers.add_parser(
        "interpolate",
        help="add frames to a video or a frame folder (slow motion, frame-rate conversion)",
        description="Write INPUT with new in-between frames to OUTPUT (a video file, or a folder of PNG frames).",
        epilog="examples: rrin interpolate in.mp4 out.mp4 --factor 2   |   rrin interpolate in.mkv out.mkv --fps 60 --codec libx265",
    )
    parser.add_argument("input", type=Path, help="video file or folder of images (natural order)")
    parser.add_argument("output", type=Path, help="video file (.mp4 .mkv .webm .mov .avi .nut) or folder for PNG frames")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--factor", type=int, default=None, help="N: (n-1)*N+1 frames, new ones at t=j/N (default 2)")
    rate.add_argument("--fps", default=None, help="target frame rate (e.g. 60, 59.94, 24000/1001); frames placed by timestamp")
    parser.add_argument("--input-fps", default=None, metavar="RATE",
                        help="frame rate of an input folder of images (default 25; videos carry their own)")
    add_model_options(parser)
    parser.add_argument("--codec", default="libx264", choices=sorted(CODECS), help="video encoder (default libx264)")
    parser.add_argument("--crf", type=int, default=None,
                        help="quality (lower is better): default 18 for x264/x265, 31 vp9, 30 svtav1; ffv1 is lossless")
    parser.add_argument("--batch-size", type=positive_int, default=1, help="frame pairs per model call (default 1)")
    parser.add_argument("--scene-threshold", type=float, default=DEFAULT_SCENE_THRESHOLD,
                        help=f"thumbnail difference in [0,1] above which a pair is a scene cut (default {DEFAULT_SCENE_THRESHOLD}; 1 disables)")
    parser.add_argument("--on-cut", choices=("repeat", "blend"), default="repeat",
                        help="at a cut: repeat the frame before it, or cross-fade (default repeat)")
    parser.add_argument("--dedup", nargs="?", type=float, const=DEFAULT_DEDUP_THRESHOLD, default=None, metavar="THRESHOLD",
                        help=f"drop near-duplicate input frames and interpolate across them (default threshold {DEFAULT_DEDUP_THRESHOLD})")
    parser.add_argument("--flow-scale", type=float, default=1.0, metavar="S",
                        help="estimate flows on frames scaled by S in (0, 1], e.g. 0.5 for 4K (default 1)")
    parser.add_argument("--tile", type=int, default=None, metavar="N",
                        help="interpolate in overlapping N×N tiles (default: automatic from free memory; 0: never)")
    parser.add_argument("--resume", action="store_true", help="encode in segments with a journal; continue an interrupted run")
    parser.add_argument("--segment-frames", type=positive_int, default=64,
                        help="with --resume or --cluster: output frames per closed segment (default 64)")
    add_cluster_options(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.convert import ConvertJob
    from ..inference.schedule import parse_rate
    from .progress import ProgressBar

    factor = args.factor if args.factor is not None or args.fps is not None else 2
    job = ConvertJob(
        input=args.input, output=args.output, factor=factor,
        fps=parse_rate(args.fps) if args.fps is not None else None,
        input_fps=parse_rate(args.input_fps) if args.input_fps is not None else None,
        codec=args.codec, crf=args.crf, batch_size=args.batch_size,
        scene_threshold=args.scene_threshold if args.scene_threshold < 1 else None,
        on_cut=args.on_cut, dedup=args.dedup, resume=args.resume, overwrite=args.overwrite, segment_frames=args.segment_frames,
        flow_scale=args.flow_scale, tile=args.tile,
    )
    bar = ProgressBar(sys.stderr, enabled=not args.quiet and sys.stderr.isatty())
    report = convert_maybe_on_cluster(args, job, bar)
    bar.close()
    for warning in report.warnings:
        print(f"rrin: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(f"{args.output}: {report.result.frames_out} frames from {report.result.frames_in} "
              f"({report.result.cuts} cuts, {report.result.duplicates} duplicates)", file=sys.stderr)
    if report.result.error:
        print(f"rrin: error: {args.input}: {report.result.error}; wrote the {report.result.frames_in} frames that decoded",
              file=sys.stderr)
        return 2
    return 0
