"""The backend protocol: how a prepared pair of frames becomes frames at several times.

A backend wraps one :class:`~rrin.model.RRIN` on one device. It receives **padded**
inputs, (B, 3, H, W) float32 RGB in [0, 1] with H and W multiples of
``model.config.size_multiple``, already on its device (as :meth:`Backend.prepare` made
them), and a list of time steps in (0, 1) (0 is ``img0``, 1 is ``img1``). It computes the
flows F0→1 and F1→0 once per pair and returns one :class:`~rrin.model.RRINOutput` per time
step, at the padded size; the :class:`~rrin.inference.Interpolator` crops them.
:meth:`Backend.iter_run` gives the same outputs lazily, a batch of time steps at a time,
so that many time steps need not be held in memory at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Sequence

import torch

from ...model.rrin import RRIN, Flows, RRINOutput

__all__ = ["Backend", "split_outputs"]


class Backend(ABC):
    """Base class of the inference backends (see the module docstring for the contract).

    Attributes:
        name: the name ``--backend`` selects it by.
        model: the wrapped network (always kept: the eager path is the reference).
        device, dtype: where it runs and the compute precision (autocast for float16 and
            bfloat16 on the PyTorch backends; the exported backends run float32).
    """

    name: str = "backend"

    def __init__(self, model: RRIN, device: torch.device, dtype: torch.dtype = torch.float32) -> None:
        self.model = model
        self.device = device
        self.dtype = dtype

    def prepare(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (B, 3, H, W) float32 padded, on the device, in the backend's memory layout.

        The result can be passed to :meth:`run` for several pairs (a video's frame k is the
        second input of pair (k-1, k) and the first of (k, k+1)).
        """
        return frames.to(self.device, torch.float32)

    def run(self, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
            flows: Flows | None = None) -> list[RRINOutput]:
        """One :class:`RRINOutput` per time step for prepared, padded ``img0`` and ``img1``.

        ``flows``: the pair's flows at the padded size when already known (estimated on the
        whole frame for a tile, at another scale, or ahead in another thread); ``None``
        estimates them.
        """
        return list(self.iter_run(img0, img1, times, flows))

    @abstractmethod
    def iter_run(self, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
                 flows: Flows | None = None) -> Iterator[RRINOutput]:
        """The outputs of :meth:`run`, in order, computed as they are taken (flows once,
        then one batch of time steps per step of the iteration)."""

    def describe(self) -> str:
        """A short human description (name and settings) for logs and benchmarks."""
        return self.name


def split_outputs(output: RRINOutput, count: int, flow_01: torch.Tensor, flow_10: torch.Tensor) -> list[RRINOutput]:
    """Split an output of batch ``count * B`` (time-major) into ``count`` outputs of batch B.

    ``flow_01`` and ``flow_10`` (B, 2, H, W) are the pair's flows, shared by every time step.
    """
    fields = {name: value.chunk(count, dim=0) for name, value in vars(output).items() if name not in ("flow_01", "flow_10")}
    return [
        RRINOutput(flow_01=flow_01, flow_10=flow_10, **{name: chunks[k] for name, chunks in fields.items()})
        for k in range(count)
    ]


def time_batches(times: Sequence[float], batch: int, max_batch: int | None) -> list[list[float]]:
    """``times`` in groups such that ``len(group) * batch <= max_batch`` (at least one each)."""
    per_call = len(times) if max_batch is None else max(1, max_batch // max(batch, 1))
    return [list(times[i:i + per_call]) for i in range(0, len(times), per_call)]
