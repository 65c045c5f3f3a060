#!/usr/bin/env python
"""``rrin interpolate --cluster`` against one process, on one clip, in one run.

    PYTHONPATH=src python benchmarks/cluster.py [--size 320x180] [--frames 24] [--factor 2]
        [--preset lite] [--model WEIGHTS] [--workers 1,2] [--segment-frames 8] [--backend eager]

A synthetic clip (a moving textured pattern, libx264) is made in a temporary folder, then
converted in one process (``convert``, with torch's own thread count and with one thread),
then once per entry of ``--workers`` on ONE local Ray instance started for the run (loopback only, token
authentication on, no dashboard, no usage statistics). Each Ray worker is one CPU and one
thread. Printed: output frames/s of each run, counting all of it (wall: plan, connect,
starting the workers, segments, joining) and counting the segments only (wall minus the
fixed costs), both also as ratios to the one-thread process (a worker's share); then the driver's costs: the fixed ones
and the overhead per segment (driver-observed time of a segment minus the time the worker
spent on it: scheduling, argument and result transfer, journal). Without ``--model`` the
network has RANDOM weights of ``--preset`` (speed as trained weights, not the pictures).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from video_pipeline import make_clip  # the same synthetic clip as the pipeline benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--frames", type=int, default=24, help="input frames (default 24)")
    parser.add_argument("--factor", type=int, default=2)
    parser.add_argument("--preset", default="lite", help="random-weights preset without --model (default lite)")
    parser.add_argument("--model", default=None, help="weights file")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts to try (default 1,2)")
    parser.add_argument("--segment-frames", type=int, default=8, help="output frames per segment (default 8)")
    parser.add_argument("--backend", default="eager")
    parser.add_argument("--codec", default="ffv1", help="output codec (default ffv1, into .mkv)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    for name, value in {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                        "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}.items():
        os.environ.setdefault(name, value)  # a private instance: loopback, a token of its own
    src = str(Path(__file__).resolve().parents[1] / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    import ray
    import torch

    from rrin.inference.cluster import ClusterOptions, convert_on_cluster
    from rrin.inference.convert import ConvertJob, convert
    from rrin.model import PRESETS, RRIN, save_weights

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = folder / "in.mp4"
        make_clip(clip, width, height, args.frames)
        model = args.model or save_weights(RRIN(PRESETS[args.preset]).eval(), folder / "w.safetensors", half=False)
        print(f"clip {width}x{height}, {args.frames} frames (factor {args.factor}), "
              f"{'random ' + args.preset if not args.model else args.model}, backend {args.backend}, "
              f"segments of {args.segment_frames} output frames")
        default_threads = torch.get_num_threads()
        for threads in dict.fromkeys((default_threads, 1)):  # ratios below are to the 1-thread run, like a worker
            torch.set_num_threads(threads)
            job = ConvertJob(clip, folder / f"one{threads}.mkv", factor=args.factor, codec=args.codec, tile=0)
            one = convert(job, model=model, device="cpu", backend=args.backend).result
            base = one.frames_out / one.timings["wall"]
            print(f"one process, {threads} torch thread(s): {base:6.2f} frames/s (wall {one.timings['wall']:.1f} s, "
                  f"{one.frames_out} frames)")
        torch.set_num_threads(default_threads)
        clock = time.perf_counter()
        ray.init(address="local", num_cpus=max(counts), num_gpus=0, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
        print(f"local Ray instance with {max(counts)} CPUs started in {time.perf_counter() - clock:.1f} s "
              "(not counted below)")
        try:
            for count in counts:
                job = ConvertJob(clip, folder / f"ray{count}.mkv", factor=args.factor, codec=args.codec, tile=0,
                                 segment_frames=args.segment_frames)
                result = convert_on_cluster(job, ClusterOptions("local", count), model=model, device="cpu",
                                            backend=args.backend).result
                t = result.timings
                fixed = t["setup"] + t["connect"] + t["start_workers"] + t["assemble"]
                whole, segments = result.frames_out / t["wall"], result.frames_out / (t["wall"] - fixed)
                print(f"ray, {count} worker(s) x 1 thread: {whole:6.2f} frames/s all in ({whole / base:.2f}x the 1-thread "
                      f"process), {segments:6.2f} frames/s in segments ({segments / base:.2f}x); "
                      f"wall {t['wall']:.1f} s")
                print(f"    driver: plan+model {t['setup']:.2f} s, workers start {t['start_workers']:.2f} s, "
                      f"join {t['assemble']:.2f} s, overhead per segment {1000 * t['segment_overhead']:.1f} ms "
                      f"({t['segments']} segments)")
        finally:
            ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
