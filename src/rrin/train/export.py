"""Training checkpoint → the shipping safetensors format (``rrin export-weights``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CheckpointError
from ..io.atomic import check_writable
from ..model.checkpoint import load_checkpoint, save_weights
from ..model.rrin import RRIN

__all__ = ["export_weights"]


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, *, ema: bool = True, half: bool = True,
                   overwrite: bool = False) -> Path:
    """Write the (EMA by default) weights of ``checkpoint`` as safetensors with their config.

    Raises:
        CheckpointError: unreadable checkpoint or weights that do not fit their config.
        InputError: ``out`` exists and ``overwrite`` is False.
    """
    out = check_writable(out, overwrite)
    config, state = load_checkpoint(checkpoint, ema=ema)
    model = RRIN(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint} does not fit its own config: {str(exc).splitlines()[0]}") from None
    metadata = {"source": Path(checkpoint).name, "weights": "ema" if ema else "raw"}
    return save_weights(model, out, half=half, metadata=metadata, overwrite=overwrite)
