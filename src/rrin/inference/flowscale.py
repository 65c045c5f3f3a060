"""Flows estimated on a downscaled pair (``--flow-scale S``, as RIFE's ``--scale``).

For large frames with large motion, the flow U-Net sees more motion per receptive field at
a lower resolution and costs S² as much. :func:`flows_at_scale` estimates F0→1 and F1→0 on
both frames resized by ``scale`` (bilinear), upsamples the flows back to full size and
multiplies their values by the size ratio (a displacement of d pixels at scale S is d/S
full-size pixels); the rest of RRIN (flow refinement, occlusion masks, residue) then runs
at full resolution on any backend (``Interpolator.iter_run(..., flows=...)``). ``scale`` = 1
is the plain model's flows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..model.rrin import RRIN, Flows

__all__ = ["flows_at_scale"]


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
