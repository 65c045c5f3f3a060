"""Pictures of what the network saw and did: flows, weight maps, warped frames, residue."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..io.atomic import check_writable
from ..io.images import Image, write_image
from ..model.rrin import RRINOutput

__all__ = ["PICTURES", "flow_to_color", "flow_legend", "explanation_paths", "write_explanation"]

#: The pictures :func:`write_explanation` writes, ``NAME.png`` each.
PICTURES = ("flow_01", "flow_10", "flow_t0", "flow_t1", "weight_0", "weight_1", "img0_warped", "img1_warped",
            "blend", "residue")


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-wheel coding of a flow field (hue = direction, saturation = speed).

    Args:
        flow: (2, H, W) or (H, W, 2) float, pixels.
        max_magnitude: the speed shown fully saturated; the field's maximum if ``None``.

    Returns:
        (H, W, 3) float32 RGB in [0, 1]; white is no motion.
    """
    if flow.shape[0] == 2 and flow.ndim == 3 and flow.shape[-1] != 2:
        flow = np.moveaxis(flow, 0, -1)
    u, v = flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32)
    magnitude = np.hypot(u, v)
    scale = max_magnitude if max_magnitude else max(float(magnitude.max()), 1e-6)
    hue = (np.degrees(np.arctan2(v, u)) % 360) / 2  # OpenCV hue is 0..180
    saturation = np.clip(magnitude / scale, 0, 1) * 255
    hsv = np.stack([hue, saturation, np.full_like(hue, 255)], axis=-1).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32) / 255


def flow_legend(size: int = 96) -> np.ndarray:
    """A colour wheel showing which colour means which direction, (size, size, 3) in [0, 1]."""
    coords = np.linspace(-1, 1, size, dtype=np.float32)
    u, v = np.meshgrid(coords, coords)
    wheel = flow_to_color(np.stack([u, v], axis=-1), max_magnitude=1.0)
    wheel[np.hypot(u, v) > 1] = 1.0
    return wheel


def _with_legend(picture: np.ndarray, max_magnitude: float) -> np.ndarray:
    """``picture`` with the colour wheel and the saturating speed in its top-right corner
    (none on pictures under 24 pixels on a side: the wheel would not fit)."""
    if min(picture.shape[:2]) < 24:
        return picture
    pixels = np.clip(np.rint(picture * 255), 0, 255).astype(np.uint8)
    size = max(24, min(96, min(pixels.shape[:2]) // 3))
    pixels[:size, -size:] = np.rint(flow_legend(size) * 255).astype(np.uint8)
    text = f"{max_magnitude:.1f}px"
    cv2.putText(pixels, text, (pixels.shape[1] - size, size + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1)
    return pixels.astype(np.float32) / 255


def explanation_paths(folder: str | Path, overwrite: bool = False) -> list[Path]:
    """The files :func:`write_explanation` would write into ``folder``, after checking
    that it can: :class:`InputError` when ``folder`` is a file, when one of the pictures
    exists and not ``overwrite``, or when the folder (or the nearest existing folder
    above it, under which it would be made) cannot be written."""
    folder = Path(folder)
    paths = [folder / f"{name}.png" for name in PICTURES]
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder for the explanation pictures")
    if folder.is_dir():
        for path in paths:
            check_writable(path, overwrite)
        return paths
    above = next((parent for parent in folder.absolute().parents if parent.exists()), None)
    if above is None or not above.is_dir():
        raise InputError(f"cannot make the folder {folder}: {above} is not a folder")
    if not os.access(above, os.W_OK):
        raise InputError(f"output folder {above} is not writable")
    return paths


def write_explanation(folder: str | Path, output: RRINOutput, t: float) -> list[Path]:
    """Write the pictures of one interpolation (batch item 0) into ``folder``.

    Files: ``flow_01``, ``flow_10``, ``flow_t0``, ``flow_t1`` (colour wheel with a legend in
    the top-right corner and the saturating speed), ``weight_0``/``weight_1`` (each warped
    frame's normalised share of the blend, white = all of it), ``img0_warped``,
    ``img1_warped``, ``blend`` and ``residue`` (mid-grey = 0, amplified ×4).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def array(tensor: torch.Tensor) -> np.ndarray:
        return tensor[0].detach().float().cpu().numpy()

    pictures: dict[str, np.ndarray] = {}
    flows = {name: array(getattr(output, name)) for name in ("flow_01", "flow_10", "flow_t0", "flow_t1")}
    max_magnitude = max(max(float(np.hypot(f[0], f[1]).max()) for f in flows.values()), 1e-3)
    for name, flow in flows.items():
        pictures[name] = _with_legend(flow_to_color(flow, max_magnitude), max_magnitude)
    mask = array(output.mask)
    weight0 = (1 - t) * mask[0]
    weight1 = t * mask[1]
    total = weight0 + weight1 + 1e-8
    pictures["weight_0"] = np.repeat((weight0 / total)[..., None], 3, axis=2)
    pictures["weight_1"] = np.repeat((weight1 / total)[..., None], 3, axis=2)
    for name in ("img0_warped", "img1_warped", "blend"):
        pictures[name] = np.moveaxis(array(getattr(output, name)), 0, -1)
    pictures["residue"] = np.clip(0.5 + 4 * np.moveaxis(array(output.residue), 0, -1), 0, 1)

    return [write_image(folder / f"{name}.png", Image(np.clip(pictures[name], 0, 1).astype(np.float32)))
            for name in PICTURES]
