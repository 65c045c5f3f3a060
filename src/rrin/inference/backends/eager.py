"""The PyTorch backend, with optional channels_last memory layout and mixed precision."""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import torch

from ...model.rrin import RRIN, Flows, RRINOutput
from ..device import autocast
from .base import Backend, split_outputs, time_batches
from .memory import keep_freed_memory

__all__ = ["EagerBackend"]


class EagerBackend(Backend):
    """Runs the model with PyTorch: flows once per pair, then the time steps in batches.

    Args:
        model, device, dtype: see :class:`~rrin.inference.backends.base.Backend`; with
            float16/bfloat16 the network runs under autocast, outputs are float32.
        channels_last: NHWC memory layout for the convolutions (faster on CPU with oneDNN
            and with tensor cores on GPU).
        max_batch: at most this many samples (pairs × time steps) go through the
            synthesis U-Nets at once; ``None`` is the device's default: 8 on GPU, where
            batching time steps pays, and 1 on CPU, where it only costs memory.
        keep_memory: on CPU (Linux), have glibc keep freed activation memory for the next
            frame instead of page-faulting it in again (:mod:`.memory`); about a quarter
            faster at 720p, but the process keeps its peak memory and the setting applies
            to the whole process. ``None``: on for CPU devices when the model has U-Nets.
    """

    name = "eager"

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        *,
        channels_last: bool = True,
        max_batch: int | None = None,
        keep_memory: bool | None = None,
    ) -> None:
        super().__init__(model, device, dtype)
        if keep_memory is None:  # worth it for the U-Nets' activations; a model without U-Nets has none
            keep_memory = device.type == "cpu" and bool(model.unets)
        self.keep_memory = keep_memory
        if self.keep_memory and device.type == "cpu":
            self.keep_memory = keep_freed_memory()
        self.channels_last = channels_last
        self.max_batch = max_batch if max_batch is not None else (1 if device.type == "cpu" else 8)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(device).eval().to(memory_format=self.memory_format)
        self._estimate_flows: Callable[[torch.Tensor, torch.Tensor], Flows] = self.model.estimate_flows
        self._synthesize: Callable[..., RRINOutput] = self.model.synthesize

    def prepare(self, frames: torch.Tensor) -> torch.Tensor:
        return frames.to(self.device, torch.float32).contiguous(memory_format=self.memory_format)

    def iter_run(self, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
                 flows: Flows | None = None) -> Iterator[RRINOutput]:
        batch = img0.shape[0]
        if flows is None:
            with torch.inference_mode(), autocast(self.device, self.dtype):
                flows = self._estimate_flows(img0, img1)
        else:
            flows = Flows(flows.flow_01.to(self.device), flows.flow_10.to(self.device))
        for group in time_batches(times, batch, self.max_batch):
            count = len(group)
            with torch.inference_mode(), autocast(self.device, self.dtype):  # not held across a yield
                t = torch.tensor(group, device=self.device, dtype=torch.float32).repeat_interleave(batch)
                repeat = (lambda x: x) if count == 1 else (lambda x: torch.cat([x] * count))  # keeps the layout
                group_flows = Flows(repeat(flows.flow_01), repeat(flows.flow_10))
                output = self._synthesize(repeat(img0), repeat(img1), group_flows, t)
                outputs = [_as_float32(o) for o in split_outputs(output, count, flows.flow_01, flows.flow_10)]
            del output
            yield from outputs

    def describe(self) -> str:
        layout = "channels_last" if self.channels_last else "NCHW"
        memory = ", keep_memory" if self.keep_memory else ""
        return f"{self.name} ({layout}, {str(self.dtype).removeprefix('torch.')}, max_batch {self.max_batch}{memory})"


def _as_float32(output: RRINOutput) -> RRINOutput:
    return RRINOutput(**{name: value.float() for name, value in vars(output).items()})
