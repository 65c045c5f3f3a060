"""Pictures of the worst cases: each method's prediction and an error heat map.

:class:`WorstCases` is an ``on_prediction`` hook for :func:`rrin.evaluate.evaluate_samples`
and :func:`rrin.evaluate.evaluate_clip`: it keeps, per method, the ``count`` frames with the
lowest PSNR (so memory stays bounded) and :meth:`WorstCases.write` saves them as
``DIR/METHOD/NAME_pred.png`` and ``DIR/METHOD/NAME_error.png``.
"""

from __future__ import annotations

import heapq
import re
from pathlib import Path

import cv2
import numpy as np

from ..io.images import Image, write_image

__all__ = ["WorstCases", "error_heatmap"]


def error_heatmap(prediction: np.ndarray, target: np.ndarray, scale: float = 64.0) -> np.ndarray:
    """(H, W, 3) uint8 RGB heat map of the mean absolute RGB error (``scale`` levels → full colour)."""
    error = np.abs(prediction.astype(np.float32) - target.astype(np.float32)).mean(axis=2)
    levels = np.clip(error * (255.0 / scale), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO)[:, :, ::-1]


class WorstCases:
    """Keeps the ``count`` lowest-PSNR predictions of each method."""

    def __init__(self, count: int = 5) -> None:
        self.count = count
        self._heaps: dict[str, list] = {}
        self._order = 0

    def __call__(self, method: str, name: str, psnr: float, prediction: np.ndarray, target: np.ndarray) -> None:
        heap = self._heaps.setdefault(method, [])
        self._order += 1
        item = (-psnr, self._order, name, prediction.copy(), target)
        if len(heap) < self.count:
            heapq.heappush(heap, item)
        elif -psnr > heap[0][0]:
            heapq.heapreplace(heap, item)

    def write(self, folder) -> list[Path]:
        """Write the kept cases under ``folder``; returns the files written."""
        written = []
        for method, heap in self._heaps.items():
            target_dir = Path(folder) / _safe(method)
            target_dir.mkdir(parents=True, exist_ok=True)
            for _, _, name, prediction, target in sorted(heap, reverse=True):
                stem = _safe(name)
                for suffix, picture in (("pred", prediction), ("error", error_heatmap(prediction, target))):
                    path = target_dir / f"{stem}_{suffix}.png"
                    write_image(path, Image(picture.astype(np.float32) / 255))
                    written.append(path)
        return written


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "sample"
