"""Pseudo ground-truth optical flow with OpenCV's DIS (for flow supervision).

Sign convention (the model's): ``flow_01[0]`` (u) is the horizontal and ``flow_01[1]`` (v)
the vertical displacement, in pixels, of a pixel of frame 0 on its way to frame 1, so that
``frame0(x, y) ≈ frame1(x + u, y + v)``; the model's warp samples an image at (x + u, y + v).
OpenCV's ``calc(prev, next)`` follows the same convention.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["dis_flow", "bidirectional_flow"]


def dis_flow(frame0: np.ndarray, frame1: np.ndarray) -> np.ndarray:
    """(2, H, W) float32 flow from ``frame0`` to ``frame1`` ((H, W, 3) uint8 RGB)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray0 = cv2.cvtColor(np.ascontiguousarray(frame0), cv2.COLOR_RGB2GRAY)
    gray1 = cv2.cvtColor(np.ascontiguousarray(frame1), cv2.COLOR_RGB2GRAY)
    flow = dis.calc(gray0, gray1, None)
    return np.ascontiguousarray(flow.transpose(2, 0, 1).astype(np.float32))


def bidirectional_flow(frame0: np.ndarray, frame1: np.ndarray) -> np.ndarray:
    """(4, H, W) float32: ``flow_01`` then ``flow_10``."""
    return np.concatenate([dis_flow(frame0, frame1), dis_flow(frame1, frame0)])
