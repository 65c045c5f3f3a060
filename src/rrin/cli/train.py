"""``rrin train``: train or fine-tune RRIN from a TOML/YAML config."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import InputError
from .common import float_in


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train RRIN from a config (single process or under torchrun)",
        description="Train RRIN. Settings come from --config (TOML or YAML) and section.key=value overrides, "
                    "e.g. 'rrin train --config configs/lite_bbb.toml --run runs/lite optim.lr=1e-4 train.steps=2000'. "
                    "Under 'torchrun --nproc_per_node N' the same command trains with DistributedDataParallel.",
    )
    parser.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")
    parser.add_argument("--config", "-c", type=Path, default=None,
                        help="config file (default with --resume: the run folder's config.toml)")
    parser.add_argument("--run", "--run-dir", "-o", dest="run", type=Path, required=True,
                        help="run folder (checkpoints, logs, samples); under torchrun write --run-dir or -o")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    parser.add_argument("--max-minutes", type=float_in(0, math.inf), default=None,
                        help="stop cleanly with a checkpoint after this many minutes (default: train.max_minutes)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..train import load_config, train
    from .progress import ProgressBar, wants_bar

    config_path = args.config
    if config_path is None:
        if not args.resume:
            raise InputError("--config is required (or --resume a run folder that has a config.toml)")
        config_path = args.run / "config.toml"
    config = load_config(config_path, args.overrides)
    # A terminal gets a bar (the latest loss after it) and the other events above it; a log
    # file or a pipe gets one line per event, logged steps included; -q gets neither.
    bar = ProgressBar(sys.stderr, wants_bar(sys.stderr, args.quiet), unit="step", desc="train")
    say = None if args.quiet else (bar.write if bar.enabled else lambda message: print(message, file=sys.stderr, flush=True))

    def on_step(step: int, steps: int, row: dict | None) -> None:
        note = None if row is None else f"loss {row['loss']:.4f} lr {row['lr']:.2e} {row['samples_per_s']:.1f} samples/s"
        bar(step, steps, note)

    try:
        result = train(config, args.run, resume=args.resume, overwrite=args.overwrite, max_minutes=args.max_minutes,
                       progress=say, on_step=on_step if bar.enabled else None)
    finally:
        bar.close()
    if result.state == "interrupted":
        print(f"interrupted at step {result.step}, checkpoint saved; continue with: rrin train --run {args.run} --resume",
              file=sys.stderr, flush=True)
        return 130
    if not args.quiet and result.best_psnr is not None:
        print(f"{result.state} at step {result.step}; best validation PSNR {result.best_psnr:.2f} dB", flush=True)
    return 0
