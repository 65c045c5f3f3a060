"""Reading and writing RRIN weights in every format we meet.

Formats, told apart by content, never by trusting a pickle:

* **rrin** (ours): safetensors, our parameter names, the :class:`RRINConfig` as JSON in the
  metadata under ``"config"``. Written by :func:`save_weights`.
* **original**: the authors' release, a plain state dict saved by ``torch.save`` with the
  U-Nets named ``Flow_L``, ``refine_flow``, ``Mask``, ``final``. Trained with a legacy warp,
  so its config gets ``legacy_warp=True``.
* **fork**: the RRIN fork that added training, ``{"model", "optim", "epoch"}`` with the flow
  U-Net named ``Flow``. Legacy warp too.
* **training checkpoint** (ours): ``{"model", "ema", "config", ...}`` as written by
  ``rrin train``, our parameter names.

``torch.load`` always runs with ``weights_only=True``: loading never unpickles code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError, ConfigError
from ..io.atomic import atomic_path
from .config import RRINConfig
from .rrin import RRIN

__all__ = ["load_checkpoint", "load_state_dict", "save_weights", "read_torch_file", "check_file", "weights_digest",
           "FORMAT_NAME"]

FORMAT_NAME = "rrin"

#: Original module names → ours.
_FOREIGN_PREFIXES = {
    "Flow_L.": "flow_unet.",
    "Flow.": "flow_unet.",
    "refine_flow.": "flow_residue_unet.",
    "Mask.": "mask_unet.",
    "final.": "image_residue_unet.",
}

StateDict = dict[str, torch.Tensor]


def save_weights(
    model: RRIN,
    path: str | os.PathLike,
    *,
    half: bool = True,
    metadata: Mapping[str, str] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``model``'s weights as safetensors with its config in the metadata (atomically).

    Args:
        half: store float16 (half the size; the model computes in float32 after loading).
        metadata: extra string fields kept in the header (e.g. training step, data).
        overwrite: replace an existing ``path``; ``False``: refuse one, also one that
            appears while writing (see :func:`rrin.io.atomic.atomic_path`).
    """
    dtype = torch.float16 if half else torch.float32
    tensors = {name: value.detach().to("cpu", dtype).contiguous() for name, value in model.state_dict().items()}
    header = {"format": FORMAT_NAME, "config": model.config.to_json(), **dict(metadata or {})}
    with atomic_path(path, overwrite=overwrite) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return Path(path)


def weights_digest(model: RRIN) -> str:
    """A SHA-256 of ``model``'s configuration and weights (as float32, in name order): the
    same for the same weights whichever file, format or device they came from, and another
    for any change (a resume journal records it so that new weights never join old segments)."""
    digest = hashlib.sha256(model.config.to_json().encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def load_checkpoint(path: str | os.PathLike, *, ema: bool = True) -> tuple[RRINConfig, StateDict]:
    """Read any supported weights file into a config and a state dict in our naming.

    Args:
        ema: for a training checkpoint, take the exponential moving average weights when
            present (``False``: the raw ones).

    Raises:
        CheckpointError: the file is missing, corrupt, or not RRIN weights.
    """
    path = check_file(path, "checkpoint")
    with open(path, "rb") as handle:
        head = handle.read(16)
    if zipfile.is_zipfile(path) or head[:2] == b"\x80\x02":
        return _load_torch(path, ema)
    return _load_safetensors(path)


def _load_safetensors(path: Path) -> tuple[RRINConfig, StateDict]:
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a weights file (neither safetensors nor a PyTorch checkpoint): {exc}") from None
    tensors = {name: value.float() for name, value in tensors.items()}
    if "config" in metadata:
        try:
            config = RRINConfig.from_json(metadata["config"])
        except ConfigError as exc:
            raise CheckpointError(f"{path}: {exc}") from None
        return config, tensors
    state = _to_our_names(tensors, path)
    return infer_config(state, path, legacy_warp=_is_foreign(tensors)), state


def check_file(path: str | os.PathLike, what: str = "weights file") -> Path:
    """``path`` as a Path; :class:`CheckpointError` if it is missing or a directory."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a {what}")
    if not path.is_file():
        raise CheckpointError(f"{what} {path} does not exist")
    return path


def read_torch_file(path: str | os.PathLike, what: str = "PyTorch checkpoint") -> Any:
    """``torch.load`` with ``weights_only=True`` (tensors and plain containers only; nothing
    is ever unpickled), every failure turned into one :class:`CheckpointError` line.

    A file that holds other pickled Python objects is refused with how to convert a file
    one trusts; PyTorch's own advice to lift the restriction is never repeated.
    """
    path = Path(path)
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        text = str(exc)
        if "Weights only load failed" in text or "Unsupported global" in text:
            found = re.search(r"GLOBAL ([\w.]+)", text)
            objects = f" (e.g. {found.group(1)})" if found else ""
            raise CheckpointError(
                f"{path} is not a plain weights file: it contains pickled Python objects{objects}, which rrin "
                "never loads (unpickling can run code); if you trust the file, load it yourself with torch.load "
                "in a trusted environment and save only its tensors, e.g. torch.save(model.state_dict(), 'plain.pt') or "
                "rrin.save_weights(model, 'weights.safetensors')") from None
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        first_line = lines[0] if lines else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable {what}: {first_line}") from None


def _load_torch(path: Path, ema: bool) -> tuple[RRINConfig, StateDict]:
    payload = read_torch_file(path)
    if not isinstance(payload, Mapping):
        raise CheckpointError(f"{path} holds a {type(payload).__name__}, not a state dict")

    config_values = payload.get("config")
    if "model" in payload and isinstance(payload["model"], Mapping):
        raw = payload["ema"] if ema and isinstance(payload.get("ema"), Mapping) else payload["model"]
    else:
        raw = payload
    tensors = {name: value for name, value in raw.items() if isinstance(value, torch.Tensor)}
    has_config = isinstance(config_values, Mapping)
    state = {name: value.float() for name, value in _to_our_names(tensors, path, require_flow=not has_config).items()}
    if has_config:
        model_values = config_values.get("model", config_values)
        try:
            return RRINConfig.from_dict(model_values), state
        except (ConfigError, TypeError) as exc:
            raise CheckpointError(f"{path}: {exc}") from None
    return infer_config(state, path, legacy_warp=_is_foreign(tensors)), state


def _strip_wrappers(name: str) -> str:
    for wrapper in ("module.", "_orig_mod."):
        while name.startswith(wrapper):
            name = name[len(wrapper):]
    return name


def _is_foreign(tensors: Mapping[str, torch.Tensor]) -> bool:
    return any(_strip_wrappers(name).startswith(tuple(_FOREIGN_PREFIXES)) for name in tensors)


def _to_our_names(tensors: Mapping[str, torch.Tensor], path: Path, require_flow: bool = True) -> StateDict:
    """Our parameter names for any format's; ``require_flow``: a file without a config must
    hold a flow U-Net (files with a config may be DIS-flow models, which have none)."""
    state: StateDict = {}
    for name, value in tensors.items():
        name = _strip_wrappers(name)
        for foreign, ours in _FOREIGN_PREFIXES.items():
            if name.startswith(foreign):
                name = ours + name[len(foreign):]
                break
        state[name] = value
    if require_flow and not any(name.startswith("flow_unet.") for name in state):
        raise CheckpointError(f"{path} does not hold RRIN weights (no flow U-Net parameters found)")
    return state


def _count_levels(state: Mapping[str, torch.Tensor], unet: str) -> int:
    return sum(1 for name in state if name.startswith(f"{unet}.down_path.") and name.endswith(".block.0.weight"))


def infer_config(state: Mapping[str, torch.Tensor], path: Path | str = "weights", legacy_warp: bool = False) -> RRINConfig:
    """The config that fits a state dict's shapes (for files that carry no config)."""
    try:
        base_width = int(state["flow_unet.down_path.0.block.0.weight"].shape[0])
    except KeyError:
        raise CheckpointError(f"{path} does not hold RRIN weights (flow U-Net's first layer missing)") from None
    return RRINConfig(
        base_width=base_width,
        flow_depth=_count_levels(state, "flow_unet"),
        depth=_count_levels(state, "mask_unet"),
        legacy_warp=legacy_warp,
    )


def load_state_dict(model: RRIN, state: Mapping[str, torch.Tensor], source: Any = "weights") -> None:
    """Load ``state`` into ``model`` strictly, explaining any mismatch in one line."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(name for name in set(expected) & set(state) if expected[name].shape != state[name].shape)
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
    if wrong:
        name = wrong[0]
        problems.append(f"{len(wrong)} of another shape (e.g. {name}: {tuple(state[name].shape)} vs {tuple(expected[name].shape)})")
    if problems:
        raise CheckpointError(f"{source} does not fit this RRIN architecture: parameters " + "; ".join(problems))
    model.load_state_dict(state, strict=True)


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata header of one of our safetensors files (config decoded), or ``{}``."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
    except (SafetensorError, OSError):
        return {}
    if "config" in metadata:
        metadata["config"] = json.loads(metadata["config"])
    return metadata
