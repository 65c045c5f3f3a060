"""``rrin make-dataset``: cut videos or frame folders into training clips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import float_in, frame_size, non_negative_int, positive_int


def register(subparsers) -> None:
    from ..options import CLIP_LENGTHS, DEFAULT_SCENE_THRESHOLD

    parser = subparsers.add_parser(
        "make-dataset", help="cut videos into training clips (triplets or septuplets)",
        description="Extract clips of 3 (triplets), 7 (septuplets) or 9 frames from videos or frame folders, "
                    "resized and centre-cropped to --size, skipping clips across scene cuts and near-static "
                    "clips, with a train/validation split by source (by segment for a single video).",
    )
    parser.add_argument("inputs", nargs="+", metavar="VIDEO_OR_DIR", help="video files, folders of videos or frame folders")
    parser.add_argument("--out", "-o", type=Path, required=True, help="dataset folder to create")
    parser.add_argument("--frames", type=int, choices=CLIP_LENGTHS, default=3,
                        help="frames per clip: 3 (triplets), 7 (septuplets) or 9 (spans up to 8 frames for random_span); default 3")
    parser.add_argument("--stride", type=non_negative_int, default=0, help="frames between clip starts (default: the clip span, no overlap)")
    parser.add_argument("--frame-step", type=positive_int, default=1, help="take every Nth frame inside a clip (default 1)")
    parser.add_argument("--size", type=frame_size, default=None, metavar="WxH", help="resize to cover WxH, then centre-crop (default: keep)")
    parser.add_argument("--cut-threshold", type=float_in(0, 1), default=DEFAULT_SCENE_THRESHOLD,
                        help="scene cut: mean abs difference of consecutive 64x36 grey thumbnails above this "
                             f"(default {DEFAULT_SCENE_THRESHOLD}, as rrin interpolate's --scene-threshold)")
    parser.add_argument("--min-motion", type=float_in(0, 1), default=0.003,
                        help="near-static: first/last frame thumbnail difference below this (default 0.003)")
    parser.add_argument("--val-fraction", type=float_in(0, 1, high_open=True), default=0.1, help="share held out for validation (default 0.1)")
    parser.add_argument("--split", choices=("auto", "sources", "segments"), default="auto",
                        help="validation: whole sources, or every Nth segment of each source "
                             "(default auto: segments for one source, sources for several)")
    parser.add_argument("--segment-frames", type=positive_int, default=600,
                        help="split by segments: split unit in frames (default 600)")
    parser.add_argument("--max-clips", type=non_negative_int, default=0, help="at most this many clips per source (0: all)")
    parser.add_argument("--flow", action="store_true", help="store DIS optical flow between first and last frame")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted dataset")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or per-source lines (warnings still)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..data.make_dataset import MakeDatasetOptions, make_dataset, split_warnings
    from .progress import ProgressBar, wants_bar

    options = MakeDatasetOptions(
        clip_length=args.frames, stride=args.stride, frame_step=args.frame_step,
        size=args.size, cut_threshold=args.cut_threshold,
        min_motion=args.min_motion, val_fraction=args.val_fraction, segment_frames=args.segment_frames,
        max_clips=args.max_clips, flow=args.flow, split=args.split,
    )
    # A terminal gets a bar per source (frames read) and, as it ends, the source's line; a
    # log file or a pipe gets the lines only; -q gets neither.
    bars: dict[str, ProgressBar] = {}

    def on_frames(name: str, done: int, total: int | None) -> None:
        if name not in bars:
            close_bars()
            bars[name] = ProgressBar(sys.stderr, True, unit="frame", desc=name)
        bars[name](done, total)

    def close_bars() -> None:
        for bar in bars.values():
            bar.close()
        bars.clear()

    def say(message: str) -> None:
        close_bars()
        print(message, file=sys.stderr, flush=True)

    try:
        manifest = make_dataset(args.inputs, args.out, options, resume=args.resume, overwrite=args.overwrite,
                                progress=None if args.quiet else say,
                                on_frames=on_frames if wants_bar(sys.stderr, args.quiet) else None)
    finally:
        close_bars()
    splits = {"train": 0, "val": 0}
    for clip in manifest["clips"]:
        splits[clip["split"]] += 1
    print(f"{args.out}: {splits['train']} training and {splits['val']} validation clips")
    for warning in split_warnings(manifest):
        print(f"rrin: warning: {warning}", file=sys.stderr)
    return 0
