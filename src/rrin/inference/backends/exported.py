"""Shared machinery of the backends that run the exported ONNX graphs."""

from __future__ import annotations

import logging
import os
from abc import abstractmethod
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ...export import SYNTH_OUTPUTS, export_onnx
from ...model.rrin import RRIN, Flows, RRINOutput
from .base import Backend, time_batches
from .cache import cache_dir, model_fingerprint

__all__ = ["ExportedBackend", "exported_graphs"]


def exported_graphs(model: RRIN, cache_root: str | os.PathLike | None = None,
                    levels: int = 0) -> tuple[Path | None, Path]:
    """The ``flows`` and ``synthesize`` ONNX files of ``model``, exported once and cached
    (no ``flows`` graph, ``None``, for a DIS-flow model: DIS runs outside the network).

    ``levels``: the synthesize graph's refinement resolution (halvings, see
    :meth:`RRIN.synthesize`); each value is its own file. Files are named after
    :func:`model_fingerprint`, so other weights or another torch version export anew. Each export is checked against PyTorch (1e-3) before it is kept
    when ONNX Runtime is installed (the openvino extra does not need it).
    """
    import importlib.util

    check = importlib.util.find_spec("onnxruntime") is not None
    folder = cache_dir("onnx", cache_root)
    fingerprint = model_fingerprint(model)
    paths: list[Path | None] = []
    for graph in ("flows", "synthesize"):
        if graph == "flows" and model.config.flow == "dis":
            paths.append(None)
            continue
        suffix = f"-r{levels}" if graph == "synthesize" and levels else ""
        path = folder / f"{fingerprint}-{graph}{suffix}.onnx"
        if not path.is_file():
            logging.getLogger(__name__).info(
                "exporting the %s graph of these weights to %s (first use; later runs reuse it)", graph, path)
            export_onnx(model, path, graph=graph, check=check, overwrite=True, levels=levels if suffix else 0)
        paths.append(path)
    return paths[0], paths[1]


class ExportedBackend(Backend):
    """Runs the exported graphs: flows once per pair, then the time steps in batches.

    Subclasses load the graphs and implement :meth:`_flows` and :meth:`_synthesize` on
    numpy arrays; there is one synthesize graph per refinement resolution
    (:meth:`RRIN.refine_levels` of the input size), exported when first needed. Computation is float32 whatever ``dtype`` says; inputs and outputs
    are torch tensors on ``device``. A DIS-flow model's flows come from DIS, not a graph.
    """

    def __init__(
        self,
        model: RRIN,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        *,
        max_batch: int | None = None,
        cache_root: str | os.PathLike | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(model, device, torch.float32)
        self.max_batch = max_batch if max_batch is not None else 1
        self.threads = threads or torch.get_num_threads()
        self.cache_root = cache_root
        self.flows_path, synthesize_path = exported_graphs(model, cache_root)
        self._synthesize_paths = {0: synthesize_path}

    def synthesize_path(self, levels: int = 0) -> Path:
        """The synthesize graph whose refinement U-Nets run ``levels`` halvings down."""
        if levels not in self._synthesize_paths:
            self._synthesize_paths[levels] = exported_graphs(self.model, self.cache_root, levels)[1]
        return self._synthesize_paths[levels]

    @abstractmethod
    def _flows(self, img0: np.ndarray, img1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flow_01, flow_10) for padded (B, 3, H, W) float32 arrays."""

    @abstractmethod
    def _synthesize(self, feeds: dict[str, np.ndarray], levels: int) -> Sequence[np.ndarray]:
        """The outputs (:data:`SYNTH_OUTPUTS` order) for ``feeds`` of the synthesize graph
        of ``levels`` (:meth:`synthesize_path`)."""

    def iter_run(self, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
                 flows: Flows | None = None) -> Iterator[RRINOutput]:
        batch = img0.shape[0]
        array0 = img0.detach().cpu().float().contiguous().numpy()
        array1 = img1.detach().cpu().float().contiguous().numpy()
        if flows is None and self.flows_path is None:  # DIS runs outside the graphs
            flows = self.model.estimate_flows(img0, img1)
        if flows is not None:
            flow_01 = flows.flow_01.detach().cpu().float().contiguous().numpy()
            flow_10 = flows.flow_10.detach().cpu().float().contiguous().numpy()
        else:
            flow_01, flow_10 = self._flows(array0, array1)
        flow_01_t = torch.from_numpy(np.asarray(flow_01)).to(self.device)
        flow_10_t = torch.from_numpy(np.asarray(flow_10)).to(self.device)
        levels = self.model.refine_levels(*img0.shape[-2:])
        for group in time_batches(times, batch, self.max_batch):
            count = len(group)
            tile = (lambda a: a) if count == 1 else (lambda a: np.concatenate([a] * count))
            feeds = {
                "img0": tile(array0),
                "img1": tile(array1),
                "flow_01": tile(flow_01),
                "flow_10": tile(flow_10),
                "t": np.repeat(np.asarray(group, dtype=np.float32), batch),
            }
            results = [torch.from_numpy(np.asarray(r)).to(self.device) for r in self._synthesize(feeds, levels)]
            for k in range(count):
                fields = {name: value[k * batch:(k + 1) * batch] for name, value in zip(SYNTH_OUTPUTS, results)}
                yield RRINOutput(flow_01=flow_01_t, flow_10=flow_10_t, **fields)

    def describe(self) -> str:
        return f"{self.name} (fp32, {self.threads} threads, max_batch {self.max_batch})"
