"""Synthetic motion from still photos, rendered exactly at any time (FlyingChairs-style).

A sample is a background layer plus ``layers`` foreground layers, each a piece of a photo
(the foreground ones cut out by a random ellipse or polygon mask) moving by its own affine
motion: over the interval [0, 1] a layer translates by ``d`` pixels, rotates by ``θ`` and
scales by ``σ`` about its centre, all linearly in time. Frames are rendered independently at
t = 0, t and 1 by warping each layer's texture with its transform at that time and
compositing back to front, so the middle frame is exact ground truth for any t (only the
8-bit rounding of each frame is shared with real footage). Occlusions come from the layer
order. The flows between t = 0 and t = 1 are exact too (:func:`render_flow`): each pixel
moves with the top-most layer covering it, so the flow U-Net can be pre-trained on large
displacements that a classical estimator gets wrong. Sample ``i`` depends only on
``(seed, i)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..io.images import IMAGE_EXTENSIONS
from .clips import Clip, read_rgb8

__all__ = ["Layer", "affine_at", "render", "render_flow", "SyntheticClips", "find_photos"]


@dataclass(frozen=True)
class Layer:
    """A textured layer. ``texture``: (h, w, 3) float32 [0, 1]; ``alpha``: (h, w) float32 or
    None (opaque background). ``center``: where the texture centre sits at time 0 (x, y);
    ``shift``: (dx, dy) pixels travelled by time 1; ``angle``: radians turned by time 1
    (counter-clockwise on screen); ``scale``: size factor reached at time 1.
    """

    texture: np.ndarray
    alpha: np.ndarray | None
    center: tuple[float, float]
    shift: tuple[float, float]
    angle: float = 0.0
    scale: float = 1.0


def affine_at(layer: Layer, s: float) -> np.ndarray:
    """The 2×3 matrix sending texture coordinates to frame coordinates at time ``s``."""
    h, w = layer.texture.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    angle = layer.angle * s
    scale = 1.0 + (layer.scale - 1.0) * s
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    x = layer.center[0] + layer.shift[0] * s
    y = layer.center[1] + layer.shift[1] * s
    return np.array([[cos, sin, x - cos * cx - sin * cy], [-sin, cos, y + sin * cx - cos * cy]], np.float64)


def render(layers: list[Layer], s: float, size: tuple[int, int]) -> np.ndarray:
    """Composite ``layers`` (back to front) at time ``s``: (H, W, 3) float32 in [0, 1].

    ``size`` is (width, height). Bilinear sampling; the background reflects at its border.
    """
    frame = np.zeros((size[1], size[0], 3), np.float32)
    for layer in layers:
        matrix = affine_at(layer, s)
        flags = cv2.INTER_LINEAR
        if layer.alpha is None:
            frame = cv2.warpAffine(layer.texture, matrix, size, flags=flags, borderMode=cv2.BORDER_REFLECT_101)
            continue
        texture = cv2.warpAffine(layer.texture, matrix, size, flags=flags, borderMode=cv2.BORDER_CONSTANT)
        alpha = cv2.warpAffine(layer.alpha, matrix, size, flags=flags, borderMode=cv2.BORDER_CONSTANT)[..., None]
        frame = frame * (1 - alpha) + texture * alpha
    return frame


def render_flow(layers: list[Layer], source: float, target: float, size: tuple[int, int]) -> np.ndarray:
    """Exact flow from time ``source`` to ``target``: (2, H, W) float32, pixels.

    A pixel ``p`` of the frame at ``source`` belongs to the top-most layer covering it
    (alpha ≥ 0.5 there); that layer's point reaches ``A_target(A_source⁻¹(p))`` at
    ``target``, and the flow is that position minus ``p`` (the model's convention:
    ``frame_source(p) ≈ frame_target(p + flow)`` where nothing occludes it).
    """
    width, height = size
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    flow = np.zeros((2, height, width), np.float32)
    for layer in layers:
        placed = affine_at(layer, source)
        moved = affine_at(layer, target) @ np.vstack([cv2.invertAffineTransform(placed), [0.0, 0.0, 1.0]])
        u = moved[0, 0] * xs + moved[0, 1] * ys + moved[0, 2] - xs
        v = moved[1, 0] * xs + moved[1, 1] * ys + moved[1, 2] - ys
        if layer.alpha is None:
            flow[0], flow[1] = u, v
            continue
        alpha = cv2.warpAffine(layer.alpha, placed, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        covered = alpha >= 0.5
        flow[0][covered], flow[1][covered] = u[covered], v[covered]
    return flow


def find_photos(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"photo folder {folder} does not exist")
    photos = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not photos:
        raise InputError(f"{folder} holds no photos ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    return photos


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)


class SyntheticClips:
    """Endless synthetic triplets from the photos in ``folder`` (``length`` per epoch).

    ``clip(i)`` → frames at times 0, t, 1 with t = 0.5, or, with ``multi_t``, drawn
    uniformly from [0.1, 0.9] (the time is in ``times[i]`` after the call: see
    :meth:`time_of`). Photos are decoded once per process and shrunk so their short side is
    twice the sample size.
    """

    #: The flows of its clips are exact (rendered), not estimated.
    exact_flow = True

    clip_length = 3

    def __init__(self, folder: str | Path, *, size: int = 256, length: int = 100000, layers: int = 4,
                 max_motion: float = 24.0, seed: int = 0, multi_t: bool = False) -> None:
        self.photos = find_photos(folder)
        self.size, self.length, self.layers = size, length, layers
        self.max_motion, self.seed, self.multi_t = max_motion, seed, multi_t
        self.name = f"synthetic:{Path(folder).name}"
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    def _photo(self, index: int) -> np.ndarray:
        if index not in self._cache:
            image = read_rgb8(self.photos[index])
            short = min(image.shape[:2])
            scale = 2 * self.size / short
            if scale < 1:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            self._cache[index] = image.astype(np.float32) / 255.0
        return self._cache[index]

    def _piece(self, rng: np.random.Generator, side: int) -> np.ndarray:
        photo = self._photo(int(rng.integers(len(self.photos))))
        h, w = photo.shape[:2]
        side = min(side, h, w)
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        return np.ascontiguousarray(photo[y:y + side, x:x + side])

    def _motion(self, rng: np.random.Generator, limit: float) -> dict:
        radius = limit * math.sqrt(rng.random())
        direction = rng.uniform(0, 2 * math.pi)
        return {"shift": (radius * math.cos(direction), radius * math.sin(direction)),
                "angle": float(rng.uniform(-0.12, 0.12)), "scale": float(rng.uniform(0.9, 1.1))}

    def layers_for(self, index: int) -> tuple[list[Layer], float]:
        rng = np.random.default_rng([self.seed, index])
        t = float(rng.uniform(0.1, 0.9)) if self.multi_t else 0.5
        size = self.size
        background = self._piece(rng, int(size * 1.4))
        center = (size / 2 - 0.5, size / 2 - 0.5)
        layers = [Layer(background, None, center, **self._motion(rng, self.max_motion / 2))]
        for _ in range(int(rng.integers(1, self.layers + 1))):
            side = int(rng.integers(size // 5, size // 2))
            texture = self._piece(rng, side)
            side = texture.shape[0]
            alpha = np.zeros((side, side), np.float32)
            if rng.random() < 0.5:
                axes = (int(rng.integers(side // 4, side // 2)), int(rng.integers(side // 4, side // 2)))
                cv2.ellipse(alpha, (side // 2, side // 2), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
            else:
                corners = int(rng.integers(3, 8))
                angles = np.sort(rng.uniform(0, 2 * math.pi, corners))
                radii = rng.uniform(side / 5, side / 2 - 1, corners)
                points = np.stack([side / 2 + radii * np.cos(angles), side / 2 + radii * np.sin(angles)], 1)
                cv2.fillPoly(alpha, [points.round().astype(np.int32)], 1.0)
            position = (float(rng.uniform(0, size)), float(rng.uniform(0, size)))
            layers.append(Layer(texture, alpha, position, **self._motion(rng, self.max_motion)))
        return layers, t

    def time_of(self, index: int) -> float:
        return 0.5 if not self.multi_t else float(np.random.default_rng([self.seed, index]).uniform(0.1, 0.9))

    def clip(self, index: int) -> Clip:
        layers, t = self.layers_for(index)
        size = (self.size, self.size)
        frames = [_to_uint8(render(layers, s, size)) for s in (0.0, t, 1.0)]
        flow = np.concatenate([render_flow(layers, 0.0, 1.0, size), render_flow(layers, 1.0, 0.0, size)])
        return Clip(frames, flow)
