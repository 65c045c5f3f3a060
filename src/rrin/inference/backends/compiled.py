"""``torch.compile`` of the two halves of the network, with a persistent kernel cache."""

from __future__ import annotations

import os
from typing import Any

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
    ``"max-autotune"`` or ``"reduce-overhead"`` for CUDA graphs on GPU); ``options`` are
    :class:`EagerBackend`'s.
    """

    name = "compile"

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        *,
        mode: str | None = None,
        cache_root: str | os.PathLike | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, device, dtype, **options)
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir("inductor", cache_root)))
        self.mode = mode
        flows = torch.compile(self.model.estimate_flows, mode=mode, dynamic=False)
        synthesize = torch.compile(self.model.synthesize, mode=mode, dynamic=False)
        if mode and "reduce-overhead" in mode:
            # CUDA graphs reuse their output buffers on the next replay: copy them out.
            flows, synthesize = _copied(flows), _copied(synthesize)
        self._estimate_flows, self._synthesize = flows, synthesize

    def describe(self) -> str:
        return super().describe().replace("eager", "compile", 1) + (f", mode {self.mode}" if self.mode else "")


def _copied(function):
    def call(*args, **kwargs):
        torch.compiler.cudagraph_mark_step_begin()
        result = function(*args, **kwargs)
        return type(result)(**{name: value.clone() for name, value in vars(result).items()})

    return call
