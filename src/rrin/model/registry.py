"""Named models shipped inside the package, and loading a model by name or path.

The shipped weights live in ``rrin/weights/`` beside ``registry.json``, which describes each
model (its file, what it is for, its measured scores). A model whose file is absent is not
listed: random weights are never presented as trained ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from .checkpoint import load_checkpoint, load_state_dict
from .rrin import RRIN

__all__ = ["ShippedModel", "list_models", "get_shipped_model", "load_model", "default_model_name"]


@dataclass(frozen=True)
class ShippedModel:
    """One entry of the registry of shipped weights."""

    name: str
    file: str
    description: str
    default_for: tuple[str, ...] = ()
    scores: dict[str, Any] = field(default_factory=dict)
    speed: str = ""  # measured seconds per frame, in words (benchmarks/speed.py)

    @property
    def path(self) -> Path:
        return _weights_dir() / self.file


def _weights_dir() -> Path:
    return Path(str(resources.files("rrin") / "weights"))


def _registry_entries() -> list[ShippedModel]:
    registry = _weights_dir() / "registry.json"
    if not registry.is_file():
        return []
    entries = json.loads(registry.read_text())
    return [
        ShippedModel(
            name=entry["name"],
            file=entry["file"],
            description=entry.get("description", ""),
            default_for=tuple(entry.get("default_for", ())),
            scores=entry.get("scores", {}),
            speed=entry.get("speed", ""),
        )
        for entry in entries.get("models", [])
    ]


def list_models() -> list[ShippedModel]:
    """The shipped models whose weights are present in this installation."""
    return [model for model in _registry_entries() if model.path.is_file()]


def get_shipped_model(name: str) -> ShippedModel:
    """The shipped model called ``name``; :class:`CheckpointError` naming the choices if none."""
    for model in list_models():
        if model.name == name:
            return model
    names = ", ".join(model.name for model in list_models()) or "none shipped yet"
    raise CheckpointError(f"unknown model {name!r}: not a shipped model ({names}) nor an existing file")


def default_model_name(device: torch.device | str = "cpu") -> str:
    """The shipped model to use when none is named: the one marked default for the device type."""
    kind = torch.device(device).type
    models = list_models()
    for model in models:
        if kind in model.default_for:
            return model.name
    if models:
        return models[0].name
    raise CheckpointError("no shipped weights are installed; pass a weights file with --model PATH")


def load_model(
    source: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    *,
    ema: bool = True,
) -> RRIN:
    """An RRIN in eval mode on ``device`` from a shipped name, a weights file or the default.

    Args:
        source: a shipped model's name (``rrin models``), a path to any supported weights
            file (see :mod:`rrin.model.checkpoint`), or ``None`` for the device's default.
        ema: for training checkpoints, use the averaged weights.
    """
    if source is None:
        source = default_model_name(device)
    path = Path(source)
    if path.is_dir():
        raise CheckpointError(f"model {source} is a directory, not a weights file (give the weights file inside it)")
    if not path.is_file():
        if os.sep in str(source) or path.suffix:
            if not any(model.name == str(source) for model in list_models()):
                raise CheckpointError(f"model file {source} does not exist")
        path = get_shipped_model(str(source)).path
    config, state = load_checkpoint(path, ema=ema)
    model = RRIN(config)
    load_state_dict(model, state, source=path)
    return model.to(device).eval()
