"""Reading and writing still images of any common kind (PNG, JPEG, TIFF, BMP, WebP…).

Images are handled as float32 RGB in [0, 1] plus what must be restored on writing: an
alpha channel, the bit depth (8 or 16) and whether the source was grayscale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from .atomic import atomic_path

__all__ = ["Image", "read_image", "write_image", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


@dataclass
class Image:
    """A decoded image.

    Attributes:
        rgb: (H, W, 3) float32 in [0, 1], RGB order (grayscale replicated to 3 channels).
        alpha: (H, W) float32 in [0, 1], or ``None`` when the file has no alpha channel.
        bit_depth: 8 or 16, the depth of the file's samples.
        grayscale: the file had a single colour channel.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    grayscale: bool = False

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.rgb.shape[0], self.rgb.shape[1]


def read_image(path: str | os.PathLike) -> Image:
    """Decode ``path``; :class:`InputError` if it is missing or not an image."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image {path} does not exist")
    data = np.fromfile(str(path), dtype=np.uint8)
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if pixels is None:
        raise InputError(f"{path} is not a readable image")
    if pixels.dtype == np.uint8:
        scale, depth = 255.0, 8
    elif pixels.dtype == np.uint16:
        scale, depth = 65535.0, 16
    elif pixels.dtype == np.float32:
        scale, depth = 1.0, 16
    else:
        raise InputError(f"{path}: unsupported sample type {pixels.dtype}")
    values = pixels.astype(np.float32) / scale
    if values.ndim == 2:
        values = values[:, :, None]
    channels = values.shape[2]
    alpha = None
    if channels in (2, 4):
        alpha = np.ascontiguousarray(values[:, :, -1])
        values = values[:, :, :-1]
    if values.shape[2] == 1:
        rgb = np.repeat(values, 3, axis=2)
    else:
        rgb = values[:, :, ::-1]  # OpenCV decodes BGR
    return Image(np.ascontiguousarray(np.clip(rgb, 0, 1)), alpha, depth, grayscale=values.shape[2] == 1)


def write_image(path: str | os.PathLike, image: Image) -> Path:
    """Encode ``image`` to ``path`` (format from the extension), atomically.

    Grayscale images are written with one channel (the mean of R, G, B), alpha is kept, and
    16-bit depth is kept where the format allows it (PNG, TIFF).
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise InputError(f"cannot write images with extension {ext or '(none)'}; use one of {', '.join(sorted(IMAGE_EXTENSIONS))}")
    sixteen = image.bit_depth == 16 and ext in {".png", ".tif", ".tiff"}
    scale, dtype = (65535.0, np.uint16) if sixteen else (255.0, np.uint8)
    if image.grayscale:
        planes = [image.rgb.mean(axis=2)]
    else:
        planes = [image.rgb[:, :, 2], image.rgb[:, :, 1], image.rgb[:, :, 0]]  # BGR for OpenCV
    if image.alpha is not None:
        planes.append(image.alpha)
    stacked = np.stack(planes, axis=2) if len(planes) > 1 else planes[0]
    encoded_pixels = np.clip(np.rint(stacked * scale), 0, scale).astype(dtype)
    ok, encoded = cv2.imencode(ext, encoded_pixels)
    if not ok:
        raise InputError(f"could not encode {path}")
    with atomic_path(path) as tmp:
        encoded.tofile(str(tmp))
    return path
