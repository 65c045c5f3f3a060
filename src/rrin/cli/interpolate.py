"""``rrin interpolate``: convert a video or a frame folder to more frames per second."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cluster_options import add_cluster_options, convert_maybe_on_cluster
from .common import add_model_options, factor_int, float_in, frame_rate, int_at_least, positive_int


def tile_size(text: str) -> int:
    """argparse type for ``--tile``: 0 (never tile) or at least 64 pixels (twice the overlap)."""
    value = int_at_least(0)(text)
    if 0 < value < 64:
        raise argparse.ArgumentTypeError(f"must be 0 (never tile) or at least 64 pixels, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..options import CODECS, CUT_MODES, DEFAULT_DEDUP_THRESHOLD, DEFAULT_SCENE_THRESHOLD

    parser = subparsers.add_parser(
        "interpolate",
        help="add frames to a video or a frame folder (slow motion, frame-rate conversion)",
        description="Write INPUT with new in-between frames to OUTPUT (a video file, or a folder of PNG frames).",
        epilog="examples: rrin interpolate in.mp4 out.mp4 --factor 2   |   rrin interpolate in.mkv out.mkv --fps 60 --codec libx265",
    )
    parser.add_argument("input", type=Path, help="video file or folder of images (natural order)")
    parser.add_argument("output", type=Path, help="video file (.mp4 .mkv .webm .mov .avi .nut) or folder for PNG frames")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--factor", type=factor_int, default=None, help="N in 2..64: (n-1)*N+1 frames, new ones at t=j/N (default 2)")
    rate.add_argument("--fps", type=frame_rate, default=None, help="target frame rate (e.g. 60, 59.94, 24000/1001), at most 1000 and 64x the input's; frames placed by timestamp")
    parser.add_argument("--input-fps", type=frame_rate, default=None, metavar="RATE",
                        help="frame rate of an input folder of images (default 25; videos carry their own)")
    add_model_options(parser)
    parser.add_argument("--codec", default=None, choices=sorted(CODECS),
                        help="video encoder (default: libvpx-vp9 for .webm, libx264 for the other containers)")
    parser.add_argument("--crf", type=int_at_least(0), default=None,
                        help="quality, lower is better: x264/x265 0-51 (default 18), vp9 0-63 (31), "
                             "svtav1 1-63 (30); not for ffv1, which is lossless")
    parser.add_argument("--batch-size", type=positive_int, default=1, help="frame pairs per model call (default 1)")
    parser.add_argument("--scene-threshold", type=float_in(0, 1), default=DEFAULT_SCENE_THRESHOLD,
                        help=f"thumbnail difference in [0,1] above which a pair is a scene cut (default {DEFAULT_SCENE_THRESHOLD}; 1 disables)")
    parser.add_argument("--on-cut", choices=CUT_MODES, default=CUT_MODES[0],
                        help="at a cut: show the nearer input frame (default nearest), repeat the frame before it, or cross-fade")
    parser.add_argument("--dedup", nargs="?", type=float_in(0, 1), const=DEFAULT_DEDUP_THRESHOLD, default=None, metavar="THRESHOLD",
                        help=f"drop near-duplicate input frames and interpolate across them (default threshold {DEFAULT_DEDUP_THRESHOLD})")
    parser.add_argument("--flow-scale", type=float_in(0, 1, low_open=True), default=1.0, metavar="S",
                        help="estimate flows on frames scaled by S in (0, 1], e.g. 0.5 for 4K (default 1); "
                             "runs in PyTorch (--backend eager)")
    parser.add_argument("--tile", type=tile_size, default=None, metavar="N",
                        help="interpolate in overlapping N×N tiles, N ≥ 64 (default: automatic from free memory; 0: never)")
    parser.add_argument("--resume", action="store_true", help="encode in segments with a journal; continue an interrupted run")
    parser.add_argument("--segment-frames", type=positive_int, default=64,
                        help="with --resume or --cluster: output frames per closed segment (default 64)")
    add_cluster_options(parser)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing OUTPUT file, or the frames of an OUTPUT folder (its other files stay)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.convert import ConvertJob
    from .progress import ProgressBar, wants_bar

    factor = args.factor if args.factor is not None or args.fps is not None else 2
    job = ConvertJob(
        input=args.input, output=args.output, factor=factor,
        fps=args.fps, input_fps=args.input_fps,
        codec=args.codec, crf=args.crf, batch_size=args.batch_size,
        scene_threshold=args.scene_threshold if args.scene_threshold < 1 else None,
        on_cut=args.on_cut, dedup=args.dedup, resume=args.resume, overwrite=args.overwrite, segment_frames=args.segment_frames,
        flow_scale=args.flow_scale, tile=args.tile,
    )
    bar = ProgressBar(sys.stderr, enabled=wants_bar(sys.stderr, args.quiet))
    report = convert_maybe_on_cluster(args, job, bar)
    bar.close()
    for warning in report.warnings:
        print(f"rrin: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        result = report.result
        resumed = f", {result.frames_resumed} of them from an earlier run" if result.frames_resumed else ""
        print(f"{args.output}: {result.frames_out} frames from {result.frames_in} "
              f"({result.cuts} cuts, {result.duplicates} duplicates{resumed})", file=sys.stderr)
    if report.result.error:
        print(f"rrin: error: {args.input}: {report.result.error}; wrote the {report.result.frames_in} frames that decoded",
              file=sys.stderr)
        return 2
    return 0
