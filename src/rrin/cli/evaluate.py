"""``rrin evaluate``: score the model and the baselines on a dataset or a clip."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import add_model_options, factor_int, positive_int

DATASET_CHOICES = ("clip", "vimeo90k", "ucf101", "middlebury", "snufilm")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score the model and the baselines (PSNR, SSIM, IE, speed)",
        description="Score interpolation methods on a research dataset, or on a clip by dropping frames and rebuilding them.",
        epilog="example: rrin evaluate --dataset clip --root bikes.mp4 --factor 2 --out report.json",
    )
    parser.add_argument("--dataset", required=True, choices=DATASET_CHOICES, help="dataset layout (see docs/evaluation.md)")
    parser.add_argument("--root", type=Path, required=True, help="dataset folder, or for clip a video file or frame folder")
    parser.add_argument("--factor", type=factor_int, default=2, help="clip: keep every k-th frame and rebuild the others (default 2)")
    parser.add_argument("--frames", type=positive_int, default=41, help="clip: use the first N frames (default 41)")
    parser.add_argument("--subset", default="medium", choices=("easy", "medium", "hard", "extreme"),
                        help="snufilm: which test list (default medium)")
    add_model_options(parser)
    parser.add_argument("--baselines", default="repeat,blend,minterpolate",
                        help="comma-separated baselines among repeat, blend, minterpolate, or 'none' (default: all)")
    parser.add_argument("--limit", type=positive_int, default=None, help="score only the first N samples")
    parser.add_argument("--out", type=Path, default=None, help="write a JSON report here")
    parser.add_argument("--save-images", type=Path, default=None, metavar="DIR",
                        help="write the prediction and an error heat map of each method's worst cases")
    parser.add_argument("--worst", type=positive_int, default=5, help="how many worst cases --save-images keeps (default 5)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out report")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr (it is shown only on a terminal)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..evaluate import evaluate_clip, evaluate_samples, load_clip, make_baseline, open_dataset
    from ..evaluate.images import WorstCases
    from ..evaluate.predictors import ModelPredictor
    from ..io.atomic import atomic_path, check_writable
    from ..model.registry import list_models
    from .progress import ProgressBar, wants_bar

    if args.out is not None:
        check_writable(args.out, args.overwrite)
    names = [] if args.baselines.strip() == "none" else [n.strip() for n in args.baselines.split(",") if n.strip()]
    predictors = [make_baseline(n) for n in names]
    # Check the data before loading a model.
    if args.dataset == "clip":
        frames = load_clip(args.root, args.frames)
        samples = None
    else:
        samples = open_dataset(args.dataset, args.root, args.subset, args.limit)
    if args.model is not None or list_models():
        predictors.insert(0, ModelPredictor.load(args.model, args.device, args.precision, backend=args.backend))
    elif not args.quiet:
        print("rrin: no shipped model installed and no --model given: scoring the baselines only", file=sys.stderr)
    if not predictors:
        raise InputError("nothing to evaluate: give --model or --baselines")
    worst = WorstCases(args.worst) if args.save_images else None
    bar = ProgressBar(sys.stderr, wants_bar(sys.stderr, args.quiet), unit="sample", desc="evaluate")
    if samples is None:
        report = evaluate_clip(predictors, frames, args.factor, progress=bar, on_prediction=worst)
    else:
        report = evaluate_samples(predictors, samples, progress=bar, on_prediction=worst)
    bar.close()
    report.info = {"dataset": args.dataset, "root": str(args.root),
                   **({"subset": args.subset} if args.dataset == "snufilm" else {}), **report.info}
    print(report.format_table())
    if worst is not None:
        worst.write(args.save_images)
    if args.out is not None:
        with atomic_path(args.out, overwrite=args.overwrite) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0
