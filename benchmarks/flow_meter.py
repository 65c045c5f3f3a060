#!/usr/bin/env python
"""The flow meter: do a model's flows explain the motion of real clips?

    PYTHONPATH=src python benchmarks/flow_meter.py --model PATH [--data DIR] [--gap 2]
        [--scales 1,0.5] [--clips bikes,carphone_pristine] [--every 6]

For pairs (frame i, frame i + gap) of the real-footage clips (see ``real_footage.py``; the
first 41 frames, i = 0, every, 2·every, ...), frame i + gap is warped back onto frame i by
``flow_01`` and the PSNR against frame i is averaged over the pairs. Three rows per clip:
zero flow (no motion: the floor a useful flow must beat), OpenCV's DIS (a classical
estimator), and the model's flow U-Net with the pair resized by each of --scales (the flow
scaled back up, as ``--flow-scale`` does). Occlusions cap every row below a perfect score;
the comparison between rows is the point. Positions outside the frame read the border pixel
(``rrin.metrics.warp_psnr``; reading zeros there once ranked DIS below no flow on bikes).
This measures the flow stage alone (the flow U-Net, or DIS for a DIS-flow model).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from real_footage import fetch_clips
from rrin.model.dis import dis_flow
from rrin.evaluate import load_clip
from rrin.inference.flowscale import flows_at_scale
from rrin.metrics import to_tensor, warp_psnr
from rrin.model.registry import load_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="shipped model name or weights file")
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache" / "rrin" / "clips")
    parser.add_argument("--gap", type=int, default=2, help="frames between the two of a pair (default 2)")
    parser.add_argument("--scales", default="1,0.5")
    parser.add_argument("--clips", default="bikes,carphone_pristine", help="clip names without .mp4")
    parser.add_argument("--every", type=int, default=6, help="a pair every N frames (default 6)")
    args = parser.parse_args()

    model = load_model(args.model)
    scales = [float(value) for value in args.scales.split(",")]
    wanted = args.clips.split(",")
    print(f"warp PSNR (dB) of frame i+{args.gap} warped onto frame i by flow_01, mean over pairs")
    for clip in fetch_clips(args.data):
        if clip.stem not in wanted:
            continue
        frames = load_clip(clip, 41)
        scores: dict[str, list[float]] = {}
        for i in range(0, len(frames) - args.gap, args.every):
            img0, img1 = to_tensor(frames[i]), to_tensor(frames[i + args.gap])
            flows = {"zero flow": torch.zeros(1, 2, *img0.shape[-2:]),
                     "DIS": torch.from_numpy(dis_flow(frames[i], frames[i + args.gap]))[None]}
            with torch.inference_mode():
                for scale in scales:
                    flows[f"model, scale {scale:g}"] = flows_at_scale(model, img0, img1, scale).flow_01
            for name, flow in flows.items():
                scores.setdefault(name, []).append(float(warp_psnr(img0, img1, flow)))
        row = ", ".join(f"{name} {np.mean(values):.2f}" for name, values in scores.items())
        print(f"{clip.stem} ({len(next(iter(scores.values())))} pairs): {row}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
