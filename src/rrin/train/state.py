"""Training checkpoints: written atomically, read with ``weights_only=True``.

A checkpoint is a dict of tensors and primitive containers only::

    {"format": "rrin-train", "model": state_dict, "ema": state_dict,
     "config": {"model": RRINConfig.to_dict(), "init": …, "data": …, …},
     "optimizer": …, "scaler": …, "step": int, "samples": int,
     "rng": {"torch": uint8 tensor, "cuda": [uint8 tensors]}, "best_psnr": float, …}

``rrin.model.load_checkpoint`` reads it (EMA weights by default), so a training checkpoint
is also a weights file for every command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..io.atomic import atomic_path
from ..model.checkpoint import check_file, read_torch_file
from ..model.config import RRINConfig

__all__ = ["FORMAT", "save_training_checkpoint", "load_training_checkpoint", "rng_state", "set_rng_state", "check_architecture"]

FORMAT = "rrin-train"


def save_training_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """``torch.save`` to a temporary name beside ``path``, then rename (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **payload}, tmp)
    return path


def load_training_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_training_checkpoint` (never unpickles code)."""
    path = check_file(path, "checkpoint")
    payload = read_torch_file(path, "training checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an rrin training checkpoint (no optimizer state to resume from)")
    return payload


def check_architecture(payload: dict[str, Any], config: RRINConfig, path: str | os.PathLike) -> None:
    """Raise :class:`CheckpointError` if the checkpoint was trained with another architecture."""
    saved = payload.get("config", {}).get("model")
    if saved != config.to_dict():
        raise CheckpointError(f"{path} was trained with model {saved}, but the config asks for {config.to_dict()}")


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
