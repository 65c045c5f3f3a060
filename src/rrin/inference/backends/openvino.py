"""OpenVINO backend (optional: ``pip install 'rrin[openvino]'``), CPU only."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
import torch

from ...export import require
from ...model.rrin import RRIN
from .exported import ExportedBackend

__all__ = ["OpenVINOBackend"]


class OpenVINOBackend(ExportedBackend):
    """The exported graphs compiled by OpenVINO for the CPU, latency mode with ``threads``
    threads, in float32 (``INFERENCE_PRECISION_HINT`` f32, so results match PyTorch) or,
    with ``dtype`` bfloat16, in OpenVINO's bfloat16 (fast on CPUs with native BF16:
    AVX512_BF16 or AMX; emulated, and slow, elsewhere).

    Graphs are compiled for each input shape (static shapes run faster than dynamic ones);
    the ``shape_cache`` most recent shapes are kept compiled. ``options`` are
    :class:`ExportedBackend`'s.
    """

    name = "openvino"

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        *,
        shape_cache: int = 2,
        **options: Any,
    ) -> None:
        self._ov = require("openvino", "openvino")
        super().__init__(model, device, dtype, **options)
        self.dtype = torch.bfloat16 if dtype == torch.bfloat16 else torch.float32
        self._core = self._ov.Core()
        self._models: dict[tuple[str, int], Any] = {}
        self._compiled: OrderedDict[tuple, object] = OrderedDict()
        self._shape_cache = max(1, shape_cache)

    def _model(self, graph: str, levels: int):
        if (graph, levels) not in self._models:
            path = self.flows_path if graph == "flows" else self.synthesize_path(levels)
            self._models[graph, levels] = self._core.read_model(str(path))
        return self._models[graph, levels]

    def _request(self, graph: str, feeds: dict[str, np.ndarray], levels: int = 0):
        key = (graph, levels) + tuple(feeds[name].shape for name in sorted(feeds))
        if key in self._compiled:
            self._compiled.move_to_end(key)
            return self._compiled[key]
        model = self._model(graph, levels).clone()
        model.reshape({name: self._ov.PartialShape(list(value.shape)) for name, value in feeds.items()})
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": self.threads,
            "INFERENCE_PRECISION_HINT": "bf16" if self.dtype == torch.bfloat16 else "f32",
        }
        request = self._core.compile_model(model, "CPU", config).create_infer_request()
        self._compiled[key] = request
        while len(self._compiled) > 2 * self._shape_cache:
            self._compiled.popitem(last=False)
        return request

    def _infer(self, graph: str, feeds: dict[str, np.ndarray], levels: int = 0) -> list[np.ndarray]:
        request = self._request(graph, feeds, levels)
        results = request.infer(feeds)
        # Copy: the request reuses its output buffers on the next call.
        return [np.array(results[output]) for output in request.model_outputs]

    def describe(self) -> str:
        return super().describe().replace("fp32", "bf16" if self.dtype == torch.bfloat16 else "fp32", 1)

    def _flows(self, img0: np.ndarray, img1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flow_01, flow_10 = self._infer("flows", {"img0": img0, "img1": img1})
        return flow_01, flow_10

    def _synthesize(self, feeds: dict[str, np.ndarray], levels: int) -> Sequence[np.ndarray]:
        return self._infer("synthesize", feeds, levels)
