"""Speed of RRIN per backend, configuration and frame size, in one run and one table.

For each frame size and configuration, every backend runs in its own worker process (so
each one's peak memory is its own); the parent asks the workers for one timed frame in
turn, round-robin, ``--repeats`` times, and keeps each backend's best time, so that a
change in the machine's load hits all backends alike. Every worker first runs an untimed
warm-up frame (export, compilation, allocation).

Printed per row: ms/frame and frames/s (one interpolated frame at t = 0.5 from a pair, as
in 2× frame-rate conversion: flow U-Net + synthesis), peak memory (CPU: the worker's peak
resident set, reset before each size; GPU: the peak of PyTorch's allocator for the torch
backends), achieved GFLOP/s counted analytically from the configuration's convolutions
(``rrin.model.flops``), that as a share of the machine's peak (``--peak-gflops``, or on
CPU an estimate from the core count, clock and AVX width), and the time of the fastest
backend of the same size and configuration divided by this one's.

Examples::

    python benchmarks/speed.py                                   # 448x256 and 1280x720, all
    python benchmarks/speed.py --sizes 448x256 --repeats 2 --backends eager,openvino
    python benchmarks/speed.py --sizes 1920x1080 --configs rrin --threads 2
    python benchmarks/speed.py --configs dis-lite,dis-synthesis --sizes 448x256,1280x720,1920x1080

DIS-flow configurations (``dis``, ``dis-lite``, ``dis-synthesis``) time DIS inside each
frame (both directions, on the CPU); a ``DIS alone`` line per size gives its share.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time
from dataclasses import dataclass

DEFAULT_BACKENDS = "eager-nchw,eager,compile,onnxruntime,openvino"


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got {text!r}") from None
    return width, height


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(connection, backend_name: str, config_name: str, device_name: str, precision: str, threads: int, cache_root) -> None:
    """Build one backend, then answer ("size", w, h) with (seconds, peak MB) until None."""
    import torch

    from rrin.inference.backends import select_backend
    from rrin.inference.device import resolve_device, resolve_precision
    from rrin.model import PRESETS, RRIN
    from rrin.model.rrin import _pad_to_multiple

    torch.set_num_threads(threads)
    device = resolve_device(device_name)
    dtype = resolve_precision(precision, device)
    torch.manual_seed(0)
    model = RRIN(PRESETS[config_name]).eval().to(device)
    try:
        backend = select_backend(backend_name, model, device, dtype, cache_root=cache_root, threads=threads)
    except Exception as exc:  # report and stop: the table shows why
        connection.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:80]))
        return
    connection.send(("ready", backend.describe()))
    prepared = {}
    while True:
        request = connection.recv()
        if request is None:
            return
        _, width, height, warmup = request
        if (width, height) not in prepared:
            generator = torch.Generator().manual_seed(1)
            frames = torch.rand(2, 1, 3, height, width, generator=generator)
            multiple = model.config.size_multiple
            prepared = {(width, height): [backend.prepare(_pad_to_multiple(f.to(device), multiple)) for f in frames]}
            reset_peak_rss()
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
        img0, img1 = prepared[(width, height)]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        outputs = backend.run(img0, img1, [0.5])
        outputs[0].img_t.sum().item()  # wait for the device
        seconds = time.perf_counter() - start
        memory = peak_rss_mb() if device.type != "cuda" else torch.cuda.max_memory_allocated(device) / 2**20
        connection.send(("done", seconds, memory))


def dis_seconds(config, width: int, height: int, repeats: int) -> float:
    """Best time of DIS's two flows for one pair of random-texture frames at (width, height)."""
    import numpy as np
    import torch

    from rrin.model.dis import dis_flows_tensor

    generator = torch.Generator().manual_seed(1)
    img0 = torch.rand(1, 3, height, width, generator=generator)
    img1 = torch.roll(img0, shifts=(2, 3), dims=(2, 3))
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        dis_flows_tensor(img0, img1, config.dis_preset, config.dis_max_side)
        times.append(time.perf_counter() - start)
    return float(np.min(times))


def cpu_peak_gflops(threads: int) -> tuple[float | None, str]:
    """Cores × clock × FLOPs per cycle (FMA ports × SIMD width × 2), from /proc/cpuinfo."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return None, "unknown"
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    mhz = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")]
    if not mhz:
        return None, "unknown"
    lanes = 16 if " avx512f" in flags else 8 if " avx2" in flags else 4
    family = next((int(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu family")), 0)
    if "AuthenticAMD" in text and family <= 25:
        lanes = min(lanes, 8)  # up to Zen 4 (family 25), AVX-512 runs on 256-bit units
    per_cycle = 2 * lanes * 2  # two FMA units, two FLOPs per FMA
    gflops = threads * max(mhz) / 1000 * per_cycle
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "CPU")
    return gflops, f"{name}, {threads} cores x {max(mhz) / 1000:.2f} GHz x {per_cycle} FLOP/cycle"


@dataclass
class Row:
    config: str
    size: str
    backend: str
    seconds: float | None
    memory: float | None
    gflop: float
    note: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="448x256,1280x720", help="comma-separated WxH (default: 448x256,1280x720)")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS, help=f"comma-separated (default: {DEFAULT_BACKENDS})")
    parser.add_argument("--configs", default="rrin,lite", help="comma-separated presets (default: rrin,lite)")
    parser.add_argument("--repeats", type=int, default=3, help="timed frames per backend, best kept (default 3)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads per backend")
    parser.add_argument("--peak-gflops", type=float, default=None, help="the device's peak, for the %%peak column")
    parser.add_argument("--cache-dir", default=None, help="where exported/compiled artefacts go (default ~/.cache/rrin)")
    args = parser.parse_args()

    import torch

    from rrin.inference.backends import resolve_backend_name
    from rrin.inference.device import resolve_device, resolve_precision
    from rrin.model import PRESETS
    from rrin.model.flops import rrin_macs

    device = resolve_device(args.device)
    dtype = resolve_precision(args.precision, device)
    sizes = [parse_size(text) for text in args.sizes.split(",")]
    backends = args.backends.split(",")
    peak, peak_note = args.peak_gflops, "given"
    if peak is None and device.type == "cpu":
        peak, peak_note = cpu_peak_gflops(args.threads)
    device_text = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} threads"
    print(f"device: {device_text}; precision {str(dtype).removeprefix('torch.')}; torch {torch.__version__}; "
          f"auto backend here: {resolve_backend_name('auto', device, dtype)}")
    print(f"peak: {f'{peak:.0f} GFLOP/s' if peak else 'unknown'} ({peak_note}); best of {args.repeats}, interleaved; load average at start "
          f"{os.getloadavg()[0]:.1f}")

    context = mp.get_context("spawn")
    rows: list[Row] = []
    for config_name in args.configs.split(","):
        for width, height in sizes:
            gflop = 2 * rrin_macs(PRESETS[config_name], height, width) / 1e9
            workers = {}
            for name in backends:
                mine, theirs = context.Pipe()
                process = context.Process(target=worker, args=(theirs, name, config_name, args.device, args.precision,
                                                                args.threads, args.cache_dir), daemon=True)
                process.start()
                status = mine.recv()
                if status[0] == "error":
                    rows.append(Row(config_name, f"{width}x{height}", name, None, None, gflop, status[1]))
                    process.join()
                    continue
                mine.send(("size", width, height, True))  # warm-up
                mine.recv()
                workers[name] = (process, mine, status[1])
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeats):
                for name, (_, connection, _) in workers.items():
                    time.sleep(0.5)  # let the previous backend's threads go idle
                    connection.send(("size", width, height, False))
                    _, seconds, memory = connection.recv()
                    previous = best.get(name, (float("inf"), 0.0))
                    best[name] = (min(previous[0], seconds), max(previous[1], memory))
            for name, (process, connection, description) in workers.items():
                connection.send(None)
                process.join()
                seconds, memory = best[name]
                rows.append(Row(config_name, f"{width}x{height}", name, seconds, memory, gflop, description))
            print_table([row for row in rows if row.config == config_name and row.size == f"{width}x{height}"], peak)
            if PRESETS[config_name].flow == "dis":
                print(f"DIS alone (both directions, preset {PRESETS[config_name].dis_preset}) at {width}x{height}: "
                      f"{1000 * dis_seconds(PRESETS[config_name], width, height, args.repeats):.0f} ms\n", flush=True)


def print_table(rows: list[Row], peak: float | None) -> None:
    timed = [row.seconds for row in rows if row.seconds]
    fastest = min(timed) if timed else None
    header = f"{'config':7} {'size':>10} {'backend':12} {'ms/frame':>9} {'frames/s':>8} {'peak MB':>8} {'GFLOP/s':>8} {'%peak':>6} {'fastest/this':>12}"
    print(header)
    for row in rows:
        if row.seconds is None:
            print(f"{row.config:7} {row.size:>10} {row.backend:12} {'-':>9}   unavailable: {row.note}")
            continue
        rate = row.gflop / row.seconds
        share = f"{100 * rate / peak:5.0f}%" if peak else "     -"
        print(f"{row.config:7} {row.size:>10} {row.backend:12} {1000 * row.seconds:9.0f} {1 / row.seconds:8.3f} "
              f"{row.memory:8.0f} {rate:8.1f} {share:>6} {fastest / row.seconds:12.2f}")
    print(flush=True)


if __name__ == "__main__":
    main()
