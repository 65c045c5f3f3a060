"""Exporting RRIN to ONNX, with a parity check against PyTorch.

Three graphs can be exported from one :class:`~rrin.model.RRIN`:

* ``"model"`` (what ``rrin export`` writes): inputs ``img0``, ``img1`` (B, 3, H, W) float32
  RGB in [0, 1] of **any** height and width (the graph pads them by edge replication to a
  multiple of ``config.size_multiple`` and crops the result back) and ``t`` (B,) float32,
  the time step of each sample in (0, 1) (0 is ``img0``, 1 is ``img1``); output ``img_t``
  (B, 3, H, W) float32 in [0, 1]. A DIS-flow model (``config.flow == "dis"``) computes its
  flows outside the network, so its graph takes them as inputs too: ``img0, img1, flow_01,
  flow_10, t`` (flows (B, 2, H, W) in pixels, from :func:`rrin.model.dis.dis_flows_tensor`).
* ``"flows"`` and ``"synthesize"``: the two halves used by the ONNX Runtime and OpenVINO
  backends, so that the flow U-Net runs once per pair for several time steps. They take
  padded inputs (H, W multiples of ``size_multiple``); ``synthesize`` takes
  ``img0, img1, flow_01, flow_10, t`` and returns every field of
  :class:`~rrin.model.RRINOutput` except the two input flows, in declaration order.
  A DIS-flow model has no ``flows`` graph.

Export runs under ``torch.inference_mode`` (no autograd graph: exporting outside it once
took 23.8 GB at 1080p) and traces at a small size; height, width and batch stay dynamic.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import InputError
from .io.atomic import atomic_path
from .model.config import max_refine_levels
from .model.rrin import RRIN, Flows, pad_always

__all__ = [
    "GRAPHS",
    "SYNTH_OUTPUTS",
    "ExportResult",
    "export_onnx",
    "onnx_parity",
    "require",
]

#: Bumped whenever the exported computation changes (warp, blend, graph layout), so that
#: cached graphs of an older rrin are never served (see ``inference/backends/cache.py``).
GRAPH_VERSION = 2

#: Output names of the ``synthesize`` graph, in order.
SYNTH_OUTPUTS = ("img_t", "flow_t0", "flow_t1", "img0_warped", "img1_warped", "mask", "blend", "residue")

GRAPHS = ("model", "flows", "synthesize")

_OPSET = 17


def require(module: str, extra: str):
    """Import an optional dependency, or raise :class:`InputError` saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{module} is not installed: pip install 'rrin[{extra}]'") from None


class _ModelGraph(nn.Module):
    """forward(img0, img1, t) → img_t on inputs of any size (padding inside the graph);
    forward(img0, img1, flow_01, flow_10, t) for a DIS-flow model."""

    def __init__(self, model: RRIN, levels: int = 0) -> None:
        super().__init__()
        self.model = model
        self.levels = levels

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        height, width = img0.shape[-2], img0.shape[-1]
        multiple = self.model.config.size_multiple

        def pad(x: torch.Tensor) -> torch.Tensor:
            return pad_always(x, multiple)

        img0, img1 = pad(img0), pad(img1)
        if len(rest) == 3:  # DIS flows given
            flow_01, flow_10, t = rest
            flows = Flows(pad(flow_01), pad(flow_10))
        else:
            (t,) = rest
            flows = self.model.estimate_flows(img0, img1)
        img_t = self.model.synthesize(img0, img1, flows, t, self.levels).img_t
        return img_t[:, :, :height, :width]


class _FlowsGraph(nn.Module):
    def __init__(self, model: RRIN) -> None:
        super().__init__()
        self.model = model

    def forward(self, img0: torch.Tensor, img1: torch.Tensor):
        flows = self.model.estimate_flows(img0, img1)
        return flows.flow_01, flows.flow_10


class _SynthesizeGraph(nn.Module):
    def __init__(self, model: RRIN, levels: int = 0) -> None:
        super().__init__()
        self.model = model
        self.levels = levels

    def forward(self, img0, img1, flow_01, flow_10, t):
        output = self.model.synthesize(img0, img1, Flows(flow_01, flow_10), t, self.levels)
        return tuple(getattr(output, name) for name in SYNTH_OUTPUTS)


def _graph_spec(model: RRIN, graph: str, height: int, width: int, batch: int, levels: int = 0):
    """(module, example inputs, input names, output names) of one graph."""
    generator = torch.Generator().manual_seed(0)
    img0 = torch.rand(batch, 3, height, width, generator=generator)
    img1 = torch.rand(batch, 3, height, width, generator=generator)
    t = torch.linspace(0.3, 0.7, batch)
    flow_01 = torch.randn(batch, 2, height, width, generator=generator)
    flow_10 = torch.randn(batch, 2, height, width, generator=generator)
    takes_flows = model.config.flow == "dis"
    if graph == "model" and takes_flows:
        names = ["img0", "img1", "flow_01", "flow_10", "t"]
        return _ModelGraph(model, levels), (img0, img1, flow_01, flow_10, t), names, ["img_t"]
    if graph == "model":
        return _ModelGraph(model, levels), (img0, img1, t), ["img0", "img1", "t"], ["img_t"]
    if graph == "flows" and takes_flows:
        raise InputError("a DIS-flow model has no flows graph: DIS runs outside the network")
    if graph == "flows":
        return _FlowsGraph(model), (img0, img1), ["img0", "img1"], ["flow_01", "flow_10"]
    if graph == "synthesize":
        names = ["img0", "img1", "flow_01", "flow_10", "t"]
        return _SynthesizeGraph(model, levels), (img0, img1, flow_01, flow_10, t), names, list(SYNTH_OUTPUTS)
    raise InputError(f"unknown graph {graph!r}; use one of {', '.join(GRAPHS)}")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how closely ONNX Runtime reproduces PyTorch."""

    path: Path
    graph: str
    max_abs_diff: float | None  # None when the check was skipped
    check_size: tuple[int, int] | None


def export_onnx(
    model: RRIN,
    path: str | os.PathLike,
    *,
    graph: str = "model",
    check: bool = True,
    check_size: tuple[int, int] = (37, 53),
    tolerance: float = 1e-3,
    overwrite: bool = False,
    levels: int = 0,
) -> ExportResult:
    """Write ``model`` as an ONNX file (opset 17) with dynamic batch, height and width.

    Args:
        model: the network; exported on CPU in float32 (the model itself is not changed).
        path: the ``.onnx`` file to write (atomically).
        graph: ``"model"``, ``"flows"`` or ``"synthesize"`` (see the module docstring).
        check: run the exported file with ONNX Runtime on random frames of ``check_size``
            (height, width) and compare with PyTorch; needs ``onnxruntime``.
        tolerance: the largest accepted absolute difference; above it :class:`InputError`.
        overwrite: replace an existing ``path``.
        levels: the refinement U-Nets run on inputs halved this many times (see
            :meth:`RRIN.synthesize <rrin.model.RRIN.synthesize>`), fixed in the graph
            whatever the input size; 0 (the default) is full resolution.

    Returns:
        An :class:`ExportResult` with the maximum absolute difference found.
    """
    from .io.atomic import check_writable

    require("onnx", "onnx")
    path = Path(path)
    multiple = model.config.size_multiple
    most = max_refine_levels(model.config)
    if not 0 <= levels <= most:
        raise InputError(f"refine levels must be between 0 and {most} for this model, got {levels}")
    check_writable(path, overwrite)
    # Trace at a small padded size (two multiples) with a batch of two.
    module, inputs, input_names, output_names = _graph_spec(_cpu_copy(model), graph, 2 * multiple, 2 * multiple, 2, levels)
    dims = {0: "batch", 2: "height", 3: "width"}
    dynamic_axes = {name: dims for name in input_names + output_names}
    dynamic_axes["t"] = {0: "batch"}
    diff, size = None, None
    with atomic_path(path, overwrite=overwrite) as tmp:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic
            torch.onnx.export(
                module,
                inputs,
                str(tmp),
                dynamo=False,
                input_names=input_names,
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                opset_version=_OPSET,
            )
        if check:  # before the rename: a file that fails the check is never left behind
            size = check_size if graph == "model" else (3 * multiple, 3 * multiple)
            diff = onnx_parity(model, tmp, graph=graph, height=size[0], width=size[1], levels=levels)
            if not diff <= tolerance:
                raise InputError(f"ONNX export differs from PyTorch by {diff:.3g} (> {tolerance:g}); nothing written")
    result = ExportResult(path=path, graph=graph, max_abs_diff=diff, check_size=size)
    return result


def onnx_parity(model: RRIN, path: str | os.PathLike, *, graph: str = "model", height: int = 37, width: int = 53,
                batch: int = 2, levels: int = 0) -> float:
    """The maximum absolute difference between ONNX Runtime running ``path`` and PyTorch."""
    ort = require("onnxruntime", "onnx")
    module, inputs, input_names, _ = _graph_spec(_cpu_copy(model), graph, height, width, batch, levels)
    with torch.inference_mode():
        expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {name: value.numpy() for name, value in zip(input_names, inputs)}
    actual = session.run(None, feeds)
    return max(float(np.max(np.abs(a - e.numpy()))) for a, e in zip(actual, expected))


def _cpu_copy(model: RRIN) -> RRIN:
    """``model`` in float32 on CPU, contiguous (a copy when it lives elsewhere)."""
    import copy

    parameter = next(model.parameters(), None)
    if parameter is None or (parameter.device.type == "cpu" and parameter.dtype == torch.float32 and not model.training):
        return model
    return copy.deepcopy(model).to("cpu", torch.float32).eval()
