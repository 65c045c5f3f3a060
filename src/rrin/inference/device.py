"""Choosing the device and numeric precision for inference."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from ..errors import InputError
from ..options import PRECISIONS

__all__ = ["resolve_device", "resolve_precision", "autocast"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``cpu``, ``cuda`` and ``cuda:N`` are
    checked to exist (other device types are refused: rrin runs on CPUs and CUDA GPUs)."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise InputError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError("device cuda was asked for but no CUDA GPU is available (use --device cpu)")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise InputError(f"device {device} does not exist: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return resolved


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """``"auto"`` → float16 on CUDA, float32 elsewhere."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def autocast(device: torch.device, dtype: torch.dtype) -> ContextManager:
    """Mixed precision for ``dtype`` on ``device``, or a no-op for float32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
