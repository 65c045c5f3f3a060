"""``torch.compile`` of the two halves of the network, with a persistent kernel cache."""

from __future__ import annotations

import os

import torch

from ...model.rrin import RRIN
from .cache import cache_dir
from .eager import EagerBackend

__all__ = ["CompiledBackend"]


class CompiledBackend(EagerBackend):
    """:class:`EagerBackend` with ``estimate_flows`` and ``synthesize`` compiled by Inductor.

    The first call at a new frame size compiles (tens of seconds to minutes on CPU); the
    generated kernels go to Inductor's cache, which this backend points at
    ``~/.cache/rrin/inductor`` unless ``TORCHINDUCTOR_CACHE_DIR`` is already set, so later
    processes pay much less. ``mode`` is passed to :func:`torch.compile` (e.g.
    ``"max-autotune"`` or ``"reduce-overhead"`` for CUDA graphs on GPU).
    """

    name = "compile"

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        *,
        channels_last: bool = True,
        max_batch: int | None = None,
        mode: str | None = None,
        cache_root: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(model, device, dtype, channels_last=channels_last, max_batch=max_batch)
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir("inductor", cache_root)))
        self.mode = mode
        self._estimate_flows = torch.compile(self.model.estimate_flows, mode=mode, dynamic=False)
        self._synthesize = torch.compile(self.model.synthesize, mode=mode, dynamic=False)

    def describe(self) -> str:
        return super().describe().replace("eager", "compile", 1) + (f", mode {self.mode}" if self.mode else "")
