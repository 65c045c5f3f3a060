"""ONNX Runtime backend (optional: ``pip install 'rrin[onnx]'``)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ...export import require
from ...model.rrin import RRIN
from .exported import ExportedBackend

__all__ = ["OnnxRuntimeBackend"]


class OnnxRuntimeBackend(ExportedBackend):
    """The exported graphs run by ONNX Runtime (CUDA provider when ``device`` is CUDA and
    ``onnxruntime-gpu`` provides it, else CPU), ``threads`` intra-op threads; ``options``
    are :class:`ExportedBackend`'s."""

    name = "onnxruntime"

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        **options: Any,
    ) -> None:
        ort = require("onnxruntime", "onnx")
        super().__init__(model, device, dtype, **options)
        self._ort = ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        self._flows_session = (None if self.flows_path is None
                               else ort.InferenceSession(str(self.flows_path), options, providers=providers))
        self._options, self._providers = options, providers
        self._synth_sessions: dict[int, Any] = {}

    def _flows(self, img0: np.ndarray, img1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flow_01, flow_10 = self._flows_session.run(None, {"img0": img0, "img1": img1})
        return flow_01, flow_10

    def _synthesize(self, feeds: dict[str, np.ndarray], levels: int) -> Sequence[np.ndarray]:
        if levels not in self._synth_sessions:
            path = str(self.synthesize_path(levels))
            self._synth_sessions[levels] = self._ort.InferenceSession(path, self._options, providers=self._providers)
        return self._synth_sessions[levels].run(None, feeds)
