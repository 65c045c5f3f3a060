"""Backward warping: sample an image at positions displaced by a flow field."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["backward_warp"]


def backward_warp(image: torch.Tensor, flow: torch.Tensor, legacy: bool = False, padding: str = "zeros") -> torch.Tensor:
    """Sample ``image`` at ``(x + u, y + v)`` for every pixel ``(x, y)``, bilinearly.

    Args:
        image: (B, C, H, W) float tensor.
        flow: (B, 2, H, W) float tensor in pixels; channel 0 is the horizontal
            displacement ``u``, channel 1 the vertical ``v``.
        legacy: reproduce the original release's grid (normalised as ``2(x/W - 0.5)``,
            sampled with ``align_corners=True``), which is off by a fraction of a pixel
            that grows towards the bottom-right; only for the authors' weights.
        padding: what positions outside the frame read: ``"zeros"`` (the original
            release) or ``"border"`` (the nearest edge pixel).

    Returns:
        (B, C, H, W) tensor. Pixel centres are exact (``legacy=False``).
    """
    batch, _, height, width = image.shape
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype).view(1, height, 1)
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype).view(1, 1, width)
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    if legacy:
        grid_x = 2 * (x / width - 0.5)
        grid_y = 2 * (y / height - 0.5)
    else:
        grid_x = 2 * x / max(width - 1, 1) - 1
        grid_y = 2 * y / max(height - 1, 1) - 1
    grid = torch.stack((grid_x, grid_y), dim=3).to(image.dtype)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding, align_corners=True)
