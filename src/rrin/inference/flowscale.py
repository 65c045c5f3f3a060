"""Flows estimated on a downscaled pair (``--flow-scale S``, as RIFE's ``--scale``).

For large frames with large motion, the flow U-Net sees more motion per receptive field at
a lower resolution and costs S² as much. :func:`run_flow_scaled` estimates F0→1 and F1→0 on
both frames resized by ``scale`` (bilinear), upsamples the flows back to full size and
multiplies their values by the size ratio (a displacement of d pixels at scale S is d/S
full-size pixels), then runs the rest of RRIN (flow refinement, occlusion masks, residue)
at full resolution. ``scale`` = 1 is the plain model.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
import torch.nn.functional as F

from ..model.rrin import RRIN, Flows, _pad_to_multiple, crop_output
from .device import autocast

__all__ = ["flows_at_scale", "run_flow_scaled", "iter_flow_scaled"]


def _resize_flow(flow: torch.Tensor, height: int, width: int) -> torch.Tensor:
    h, w = flow.shape[-2:]
    flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
    return torch.cat([flow[:, 0:1] * (width / w), flow[:, 1:2] * (height / h)], dim=1)


def flows_at_scale(model: RRIN, img0: torch.Tensor, img1: torch.Tensor, scale: float) -> Flows:
    """Bidirectional flows (B, 2, H, W), in full-size pixels, for (B, 3, H, W) float inputs
    in [0, 1] of any size, estimated on both frames resized by ``scale`` (0 < scale ≤ 1;
    1 is plain :meth:`RRIN.flows`)."""
    if scale == 1:
        return model.flows(img0, img1)
    height, width = img0.shape[-2:]
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    small0 = F.interpolate(img0, size=size, mode="bilinear", align_corners=False, antialias=True)
    small1 = F.interpolate(img1, size=size, mode="bilinear", align_corners=False, antialias=True)
    flows = model.flows(small0, small1)
    return Flows(flow_01=_resize_flow(flows.flow_01.float(), height, width),
                 flow_10=_resize_flow(flows.flow_10.float(), height, width))


def run_flow_scaled(model: RRIN, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
                    scale: float, device: torch.device, dtype: torch.dtype) -> list[torch.Tensor]:
    """Frames ``img_t`` (B, 3, H, W) float32 in [0, 1] at ``times`` in (0, 1) between
    (B, 3, H, W) float inputs in [0, 1], with flows estimated at ``scale`` (0 < scale ≤ 1)."""
    return list(iter_flow_scaled(model, img0, img1, times, scale, device, dtype))


def iter_flow_scaled(model: RRIN, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
                     scale: float, device: torch.device, dtype: torch.dtype) -> Iterator[torch.Tensor]:
    """:func:`run_flow_scaled`'s frames one at a time, each computed when it is taken (the
    flows once, at the first)."""
    height, width = img0.shape[-2:]
    multiple = model.config.size_multiple
    with torch.inference_mode(), autocast(device, dtype):
        img0 = _pad_to_multiple(img0.to(device, torch.float32), multiple)
        img1 = _pad_to_multiple(img1.to(device, torch.float32), multiple)
        flows = flows_at_scale(model, img0, img1, scale)
    for t in times:
        with torch.inference_mode(), autocast(device, dtype):  # not held across a yield
            frame = crop_output(model.synthesize(img0, img1, flows, t), height, width).img_t.float()
        yield frame
