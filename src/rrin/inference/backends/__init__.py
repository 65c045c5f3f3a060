"""Inference backends: the same network run by PyTorch, Inductor, ONNX Runtime or OpenVINO.

=============  =====================================================  ==========================
name           what runs                                              needs
=============  =====================================================  ==========================
eager          PyTorch, channels_last, kept memory, autocast           nothing
eager-nchw     plain PyTorch, NCHW (the reference)                     nothing
compile        ``torch.compile`` (Inductor), persistent kernel cache   a C++ compiler (CPU)
onnxruntime    the exported ONNX graphs in ONNX Runtime                ``pip install 'rrin[onnx]'``
openvino       the exported ONNX graphs compiled by OpenVINO (CPU)     ``pip install 'rrin[openvino]'``
=============  =====================================================  ==========================

``auto`` is a fixed rule backed by ``benchmarks/speed.py`` (see ``docs/speed.md``): on CPU
in float32, OpenVINO if installed, else ONNX Runtime if installed, else eager
(channels_last); on CPU in bf16, OpenVINO if installed; on GPU, or in fp16/bf16 otherwise,
eager (channels_last, autocast); for a model without refinement U-Nets (``dis-synthesis``),
eager. Optional packages are imported only when their backend is built.

``auto`` precision (:func:`auto_precision`) is fp16 on GPU and, for DIS-flow models on a
CPU that computes bfloat16 natively (AVX512_BF16 or AMX), bf16 through OpenVINO — OpenVINO's
own default on such CPUs; it cost no PSNR on the scoreboard and took a third off the default
model's time per 720p frame (``docs/speed.md``) — else fp32.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from typing import Any

import torch

from ...errors import InputError
from ...model.rrin import RRIN
from ...options import BACKENDS
from .base import Backend

__all__ = ["BACKENDS", "Backend", "auto_precision", "available_backends", "native_bf16", "resolve_backend_name",
           "select_backend"]

_NEEDS = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available_backends(device: torch.device) -> list[str]:
    """The backends that can run on ``device`` with the packages installed here."""
    names = [name for name in BACKENDS if name not in _NEEDS or _installed(_NEEDS[name])]
    if device.type != "cpu":
        names = [name for name in names if name != "openvino"]
    return names


def resolve_backend_name(name: str, device: torch.device, dtype: torch.dtype = torch.float32) -> str:
    """The backend ``auto`` stands for on ``device`` at ``dtype``; other names are checked."""
    if name == "auto":
        if device.type == "cpu" and dtype == torch.float32:
            for candidate in ("openvino", "onnxruntime"):
                if _installed(_NEEDS[candidate]):
                    return candidate
        if device.type == "cpu" and dtype == torch.bfloat16 and _installed(_NEEDS["openvino"]):
            return "openvino"  # its bf16 kernels; PyTorch's CPU autocast is slower than fp32 here
        return "eager"
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; use auto or one of {', '.join(BACKENDS)}")
    if name == "openvino" and device.type != "cpu":
        raise InputError("the openvino backend runs on the CPU only (use --device cpu)")
    return name


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether OpenVINO is installed and this CPU computes bfloat16 natively (OpenVINO's
    ``OPTIMIZATION_CAPABILITIES`` list BF16: AVX512_BF16 or AMX)."""
    if not _installed(_NEEDS["openvino"]):
        return False
    try:
        import openvino

        return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # an OpenVINO that cannot see the CPU: stay in float32
        return False


def auto_precision(name: str, model: RRIN, device: torch.device) -> torch.dtype:
    """The compute precision ``--precision auto`` stands for with backend ``name``.

    float16 on CUDA; bfloat16 on a CPU with native BF16 when the backend is OpenVINO
    (``auto`` or ``openvino``) and the model is a DIS-flow model with U-Nets to run (measured
    there: no PSNR lost on any scoreboard row); float32 otherwise — the paper's flow U-Net
    outputs flows of up to hundreds of pixels, which bfloat16's 8-bit mantissa would round.
    """
    if device.type == "cuda":
        return torch.float16
    config = model.config
    if device.type == "cpu" and name in ("auto", "openvino") and config.refine and config.flow == "dis" and native_bf16():
        return torch.bfloat16
    return torch.float32


def _accepted_options(cls: type) -> set[str]:
    """Keyword options of ``cls`` and of the classes its constructor passes ``**options`` to."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            parameters = inspect.signature(vars(klass)["__init__"]).parameters.values()
            names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names


def select_backend(name: str, model: RRIN, device: torch.device, dtype: torch.dtype = torch.float32, **options: Any) -> Backend:
    """Build backend ``name`` (or the ``auto`` choice) around ``model`` on ``device``.

    ``options`` go to the backend's constructor (``max_batch``, ``channels_last``,
    ``cache_root``, ``threads``, ``mode``… see each class); options the chosen backend
    does not take are ignored, so one set of options serves every backend. A backend whose
    package is missing raises :class:`InputError` naming the extra to install.
    """
    if name == "auto" and not model.config.refine:
        name = "eager"  # no U-Nets to run: warps and a blend, nothing an exported graph speeds up
    name = resolve_backend_name(name, device, dtype)
    if name in ("eager", "eager-nchw"):
        from .eager import EagerBackend as cls

        options.setdefault("channels_last", name == "eager")
        options.setdefault("keep_memory", None if name == "eager" else False)  # eager-nchw: the plain reference
    elif name == "compile":
        from .compiled import CompiledBackend as cls
    elif name == "onnxruntime":
        from .onnx import OnnxRuntimeBackend as cls
    else:
        from .openvino import OpenVINOBackend as cls
    accepted = _accepted_options(cls)
    backend: Backend = cls(model, device, dtype, **{key: value for key, value in options.items() if key in accepted})
    backend.name = name
    return backend
