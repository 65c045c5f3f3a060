"""Bidirectional optical flow from OpenCV's DIS (Dense Inverse Search), RRIN's flow stage
when ``config.flow == "dis"``.

DIS is a classical estimator: no parameters, no gradient, CPU only. It runs on 8-bit grey
frames (OpenCV's RGB→grey weights), so the training data (``make-dataset --flow``), the
network's inputs at inference and the exported backends all see the same flows.

Sign convention (the model's): ``flow_01[0]`` (u) is the horizontal and ``flow_01[1]`` (v)
the vertical displacement, in pixels, of a pixel of frame 0 on its way to frame 1, so that
``frame0(x, y) ≈ frame1(x + u, y + v)`` — what OpenCV's ``calc(prev, next)`` returns and what
:func:`~rrin.model.warp.backward_warp` samples.

Small frames: OpenCV's DIS refuses frames under 12 pixels on both sides and crashes the
process (a segmentation fault: measured with OpenCV 5.1, every preset) on frames
under 32 rows that are several times wider (12×40, 16×128, 31×192 …). DIS therefore runs on
frames of at least :data:`MIN_SIDE` pixels each way: smaller ones are padded by edge
replication, and the flow is cropped back.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

__all__ = ["MIN_SIDE", "dis_flow", "dis_flows", "dis_flows_tensor", "to_uint8"]

#: The smallest height and width DIS is run on (measured safe for every preset and width).
MIN_SIDE = 32

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def _gray(frame: np.ndarray) -> np.ndarray:
    frame = np.ascontiguousarray(frame)
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def dis_flow(frame0: np.ndarray, frame1: np.ndarray, preset: str = "medium", max_side: int = 0) -> np.ndarray:
    """(2, H, W) float32 flow from ``frame0`` to ``frame1``.

    Args:
        frame0, frame1: (H, W, 3) uint8 RGB (or (H, W) uint8 grey) frames of one size.
        preset: ``ultrafast``, ``fast`` or ``medium``.
        max_side: when the longer side exceeds it (and it is not 0), DIS runs on the pair
            downscaled to it and the flow is resized and scaled back to (H, W).
    """
    gray0, gray1 = _gray(frame0), _gray(frame1)
    height, width = gray0.shape
    scale = max_side / max(height, width) if max_side and max(height, width) > max_side else 1.0
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray0 = cv2.resize(gray0, size, interpolation=cv2.INTER_AREA)
        gray1 = cv2.resize(gray1, size, interpolation=cv2.INTER_AREA)
    small_h, small_w = gray0.shape
    flow = _calc(gray0, gray1, preset)
    if scale < 1.0:
        flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= width / small_w
        flow[..., 1] *= height / small_h
    return np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)


def _calc(gray0: np.ndarray, gray1: np.ndarray, preset: str) -> np.ndarray:
    """OpenCV's DIS on two grey frames, padded to :data:`MIN_SIDE` (see the module's notes)."""
    height, width = gray0.shape
    pad_h, pad_w = max(0, MIN_SIDE - height), max(0, MIN_SIDE - width)
    if pad_h or pad_w:
        gray0, gray1 = (cv2.copyMakeBorder(g, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE) for g in (gray0, gray1))
    flow = cv2.DISOpticalFlow_create(_PRESETS[preset]).calc(gray0, gray1, None)
    return flow[:height, :width]


def dis_flows(frame0: np.ndarray, frame1: np.ndarray, preset: str = "medium", max_side: int = 0) -> np.ndarray:
    """(4, H, W) float32: ``flow_01`` then ``flow_10`` (see :func:`dis_flow`)."""
    return np.concatenate([dis_flow(frame0, frame1, preset, max_side), dis_flow(frame1, frame0, preset, max_side)])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [0, 1] → (B, H, W, 3) uint8 numpy (rounded), on the CPU."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def dis_flows_tensor(img0: torch.Tensor, img1: torch.Tensor, preset: str = "medium",
                     max_side: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(flow_01, flow_10)``, each (B, 2, H, W) float32 on the inputs' device.

    Args:
        img0, img1: (B, 3, H, W) float tensors in [0, 1], RGB; quantised to 8 bits for DIS.
    """
    frames0, frames1 = to_uint8(img0), to_uint8(img1)
    flows = np.stack([dis_flows(a, b, preset, max_side) for a, b in zip(frames0, frames1)])
    flows = torch.from_numpy(flows).to(img0.device)
    return flows[:, 0:2], flows[:, 2:4]
