"""Reading and writing still images of any common kind (PNG, JPEG, TIFF, BMP, WebP…).

Images are handled as float32 RGB in [0, 1] plus what must be restored on writing: an
alpha channel, the bit depth (8 or 16) and whether the source was grayscale
(:func:`read_image`), or as plain RGB integer pixels (:func:`read_rgb`, for frames and
training data). Every reader decodes with :func:`decode_file` and brings 16-bit (or float)
samples to 8 bits the same way: to the nearest level, ``round(v · 255 / 65535)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from .atomic import atomic_path

__all__ = ["Image", "decode_file", "read_image", "read_rgb", "to_uint8", "write_image", "IMAGE_EXTENSIONS"]

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


def decode_file(path: str | os.PathLike) -> np.ndarray:
    """The samples of an image file as OpenCV decodes them: (H, W) or (H, W, C) in BGR(A)
    order, uint8, uint16 or float32; :class:`InputError` if it is missing or not an image."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image {path} does not exist")
    data = np.fromfile(str(path), dtype=np.uint8)  # (not cv2.imread: any path encoding)
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if pixels is None:
        raise InputError(f"{path} is not a readable image")
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        raise InputError(f"{path}: unsupported sample type {pixels.dtype}")
    return pixels


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """uint8 samples of uint8, uint16 (to the nearest level: ``round(v / 257)``) or float
    (in [0, 1], clipped) ones, same shape."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.rint(np.clip(pixels.astype(np.float32), 0, 1) * 255).astype(np.uint8)


def read_rgb(path: str | os.PathLike, deep: bool = False) -> np.ndarray:
    """An image file as (H, W, 3) RGB pixels: uint8, or uint16 when ``deep`` and the file has
    more than 8 bits (float files become uint16 too). Grey is replicated to three channels,
    alpha dropped; 16-bit samples become 8-bit as :func:`to_uint8` says."""
    pixels = decode_file(path)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        pixels = np.repeat(pixels.reshape(pixels.shape[0], pixels.shape[1], 1), 3, axis=2)
    elif pixels.shape[2] == 2:  # grey + alpha
        pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
    else:
        pixels = pixels[:, :, 2::-1]  # BGR(A) → RGB
    if deep and pixels.dtype == np.float32:
        pixels = np.rint(np.clip(pixels, 0, 1) * 65535).astype(np.uint16)
    elif not deep or pixels.dtype != np.uint16:
        pixels = to_uint8(pixels)
    return np.ascontiguousarray(pixels)


def read_image(path: str | os.PathLike) -> Image:
    """Decode ``path``; :class:`InputError` if it is missing or not an image."""
    pixels = decode_file(path)
    if pixels.dtype == np.uint8:
        scale, depth = 255.0, 8
    elif pixels.dtype == np.uint16:
        scale, depth = 65535.0, 16
    else:  # float32
        scale, depth = 1.0, 16
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


def write_image(path: str | os.PathLike, image: Image, *, overwrite: bool = True) -> Path:
    """Encode ``image`` to ``path`` (format from the extension), atomically.

    Grayscale images are written with one channel (the mean of R, G, B), alpha is kept, and
    16-bit depth is kept where the format allows it (PNG, TIFF). ``overwrite=False``: never
    replace a file at ``path``, also one that appears while writing (:class:`InputError`).
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
    with atomic_path(path, overwrite=overwrite) as tmp:
        encoded.tofile(str(tmp))
    return path
