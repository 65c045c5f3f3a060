"""``rrin models``: the shipped models and their scores."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the shipped models", description="List the shipped models with their scores.")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..model import list_models
    from ..model.checkpoint import read_metadata

    models = list_models()
    if not models:
        print("no shipped models are installed; use --model PATH with a weights file")
        return 0
    for model in models:
        config = read_metadata(model.path).get("config", {})
        default = f" (default on {', '.join(model.default_for)})" if model.default_for else ""
        print(f"{model.name}{default}: {model.description}")
        flows = "DIS optical flow" if config.get("flow") == "dis" else "flow U-Net"
        refine = f"refinement U-Nets of base width {config.get('base_width', '?')}" if config.get("refine", True) else "no refinement U-Nets"
        print(f"    file {model.path.name}: {flows}, {refine}")
        if model.speed:
            print(f"    speed: {model.speed}")
        for clip, row in model.scores.items():
            print(f"    {clip}: {row}")
    return 0
