#!/usr/bin/env python
"""Training throughput (samples/s) and data-loading time per sample.

    PYTHONPATH=src python benchmarks/train_throughput.py [--device auto] [--size 256]
        [--batch 4] [--steps 5] [--data DATASET_DIR] [--photos PHOTO_DIR] [--threads N]

For the full ("rrin") and the small ("lite") model: one optimizer step (forward, Charbonnier
+ census loss, backward, AdamW, EMA) on --batch random SIZE×SIZE samples, timed over --steps
after one warm-up step. Then the loader: ms per training sample (read clip, crop, flips,
tensors) from --data (a make-dataset folder; default: a temporary one of random clips), and
from the synthetic generator when --photos is given. The loader keeps up when its time per
sample × batch is well under the step time (with ``data.num_workers`` ≥ 1 it also overlaps).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rrin.data.manifest import FORMAT, ManifestClips, write_manifest
from rrin.data.samples import TrainingSamples
from rrin.data.synthetic import SyntheticClips
from rrin.inference.device import resolve_device
from rrin.losses import TrainingLoss
from rrin.model import PRESETS, RRIN
from rrin.train.config import AugmentSection, LossSection
from rrin.train.schedule import EMA


def step_rate(preset: str, device: torch.device, size: int, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    model = RRIN(PRESETS[preset]).to(device).train()
    ema = EMA(model, 0.999)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    criterion = TrainingLoss(LossSection(charbonnier=1.0, census=0.1))
    data = {k: torch.rand(batch, 3, size, size, device=device) for k in ("img0", "img_t", "img1")}

    def one(step: int) -> None:
        output = model(data["img0"], data["img1"], 0.5)
        loss, _ = criterion(output, data, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        ema.update(model, step)

    one(0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        one(step + 1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def random_dataset(folder: Path, count: int = 16) -> Path:
    rng = np.random.default_rng(0)
    (folder / "clips" / "r").mkdir(parents=True)
    clips = []
    for i in range(count):
        name = f"clips/r/{i:06d}.npy"
        np.save(folder / name, rng.integers(0, 256, (3, 256, 448, 3), dtype=np.uint8))
        clips.append({"id": f"r/{i}", "source": "r", "start": i, "split": "train", "file": name})
    write_manifest(folder, {"format": FORMAT, "version": 1, "clip_length": 3, "sources": {}, "clips": clips})
    return folder


def loader_ms(reader, size: int, count: int) -> float:
    samples = TrainingSamples(reader, AugmentSection(crop=size), seed=0)
    samples[(0, 0)]
    start = time.perf_counter()
    for i in range(count):
        samples[(i % len(reader), i)]
    return 1000 * (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--photos", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device} ({torch.get_num_threads()} threads), {args.size}x{args.size}, batch {args.batch}")
    for preset in ("rrin", "lite"):
        rate = step_rate(preset, device, args.size, args.batch, args.steps)
        print(f"train {preset:5s}: {rate:8.2f} samples/s ({1000 / rate:.1f} ms/sample)")
    with tempfile.TemporaryDirectory() as tmp:
        reader = ManifestClips(args.data or random_dataset(Path(tmp)), "train")
        print(f"loader ({'--data' if args.data else 'random 448x256 clips'}): {loader_ms(reader, args.size, 32):.2f} ms/sample")
    if args.photos:
        synthetic = SyntheticClips(args.photos, size=args.size)
        print(f"loader (synthetic from {len(synthetic.photos)} photos): {loader_ms(synthetic, args.size, 16):.2f} ms/sample")


if __name__ == "__main__":
    main()
