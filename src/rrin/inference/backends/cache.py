"""Where backends keep what they build once (exported graphs, compiled kernels)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from ...model.checkpoint import weights_digest
from ...model.rrin import RRIN

__all__ = ["cache_dir", "model_fingerprint"]


def cache_dir(kind: str, root: str | os.PathLike | None = None) -> Path:
    """``root/kind``, by default under ``$RRIN_CACHE_DIR`` or ``$XDG_CACHE_HOME/rrin``
    (``~/.cache/rrin``); created if missing."""
    if root is None:
        root = os.environ.get("RRIN_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rrin"
    folder = Path(root) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def model_fingerprint(model: RRIN) -> str:
    """A short hash of the configuration and weights (:func:`~rrin.model.checkpoint.weights_digest`),
    the torch version, rrin's version and the exported graphs' version
    (:data:`rrin.export.GRAPH_VERSION`): a cached graph is reused only by the code that would
    export the same one."""
    from ... import __version__
    from ...export import GRAPH_VERSION

    digest = hashlib.sha256(weights_digest(model).encode())
    digest.update(torch.__version__.encode())
    digest.update(f"rrin {__version__} graph {GRAPH_VERSION}".encode())
    return digest.hexdigest()[:16]
