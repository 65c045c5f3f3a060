#!/usr/bin/env python
"""Throughput of ``rrin interpolate``'s pipeline: frames/s, peak memory, time split.

    PYTHONPATH=src python benchmarks/video_pipeline.py [--sizes 480p,720p,1080p] [--frames 12]
        [--factor 2] [--preset lite|rrin|dis-lite|dis-synthesis] [--model WEIGHTS] [--device auto]
        [--codec libx264] [--threads N] [--no-flows-ahead]

For each size a synthetic clip (a moving textured pattern, libx264) is made in a temporary
folder (not timed), then converted with ``--factor`` exactly as the command does (reader
thread, model, writer thread, audio-free mp4). Each size runs in its own process, so the
printed peak RSS is that size's. Printed per size: output frames/s, wall seconds, seconds
spent decoding (reader thread), in the model (calling thread) and encoding (writer thread),
the model's share of wall time (near 100 % means decode and encode are hidden behind the
model), and peak RSS. Without ``--model`` the network has RANDOM weights of the chosen
preset (speed is the same as trained weights; the pictures are not). A DIS-flow model's flows
are computed in the reader thread, beside the network (the "flows s" column);
``--no-flows-ahead`` computes them inside the model call instead, for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = {"360p": (640, 360), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}


def make_clip(path: Path, width: int, height: int, frames: int) -> None:
    import av
    import numpy as np

    out = av.open(str(path), "w")
    stream = out.add_stream("libx264", rate=24, options={"crf": "18"})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    ys, xs = np.mgrid[0:height, 0:width]
    for k in range(frames):
        image = np.stack([(xs + 7 * k) % 256, (ys * 2 + 3 * k) % 256, ((xs + ys) // 4) % 256], -1).astype(np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()


def one(args) -> dict:
    import torch

    from rrin.inference.convert import ConvertJob, convert, model_runner
    from rrin.model import PRESETS, RRIN

    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = SIZES[args.one]
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "in.mp4"
        make_clip(clip, width, height, args.frames)
        model = args.model or RRIN(PRESETS[args.preset]).eval()
        job = ConvertJob(clip, Path(folder) / "out.mp4", factor=args.factor, codec=args.codec, tile=0)
        run_model = None
        if args.no_flows_ahead:  # the same runner without its flow_fn: flows inside the model call
            runner = model_runner(job, height, width, model, args.device)
            run_model = lambda img0, img1, times: runner(img0, img1, times)  # noqa: E731
        report = convert(job, model=model, device=args.device, run_model=run_model)
    result = report.result
    wall = result.timings["wall"]
    return {"size": args.one, "frames_out": result.frames_out, "fps": result.frames_out / wall, "wall": wall,
            **{k: result.timings[k] for k in ("decode", "flows", "model", "encode")},
            "model_share": result.timings["model"] / wall,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="480p,720p,1080p")
    parser.add_argument("--frames", type=int, default=12, help="input frames per clip (default 12)")
    parser.add_argument("--factor", type=int, default=2)
    parser.add_argument("--preset", default="lite", choices=("lite", "rrin", "dis-lite", "dis", "dis-synthesis"))
    parser.add_argument("--no-flows-ahead", action="store_true", help="DIS inside the model call, not in the reader thread")
    parser.add_argument("--model", default=None, help="weights file (default: random weights of --preset)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--codec", default="libx264")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return
    import torch

    from rrin.inference.device import resolve_device

    device = resolve_device(args.device)
    label = args.model or f"RANDOM weights, preset {args.preset}"
    print(f"rrin interpolate pipeline: device {device}, model {label}, factor {args.factor}, "
          f"{args.frames} input frames, codec {args.codec}, torch threads {args.threads or torch.get_num_threads()}")
    print(f"{'size':>6} {'frames':>6} {'fps':>7} {'wall s':>7} {'decode s':>8} {'flows s':>7} {'model s':>8} {'encode s':>8} "
          f"{'model %':>7} {'peak RSS MiB':>12}")
    for size in args.sizes.split(","):
        command = [sys.executable, __file__, "--one", size, *sys.argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{size:>6} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['size']:>6} {r['frames_out']:>6} {r['fps']:>7.2f} {r['wall']:>7.1f} {r['decode']:>8.2f} {r['flows']:>7.2f} "
              f"{r['model']:>8.2f} {r['encode']:>8.2f} {100 * r['model_share']:>6.1f}% {r['peak_rss_mib']:>12.0f}")


if __name__ == "__main__":
    main()
