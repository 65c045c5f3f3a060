"""Run logs that need nothing installed (JSONL + CSV), TensorBoard when it is installed,
and validation image grids.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..inference.explain import flow_to_color
from ..io.atomic import atomic_path

__all__ = ["RunLogger", "sample_grid"]


class RunLogger:
    """Appends rows to ``log.jsonl`` and ``<kind>.csv`` (kinds: train, val) in ``run_dir``.

    A CSV's columns are those of its first row; later rows fill missing ones with blanks.
    TensorBoard events go to ``run_dir/tensorboard`` when ``tensorboard`` is importable.
    """

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        self.run_dir = run_dir
        self.columns: dict[str, list[str]] = {}
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir / "tensorboard"))
            except ImportError:
                self.writer = None

    def log(self, kind: str, row: dict[str, Any]) -> None:
        with open(self.run_dir / "log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, **row}) + "\n")
        path = self.run_dir / f"{kind}.csv"
        if kind not in self.columns:
            if path.is_file() and path.stat().st_size:
                with open(path, newline="", encoding="utf-8") as handle:
                    self.columns[kind] = next(csv.reader(handle))
            else:
                self.columns[kind] = list(row)
                with open(path, "w", newline="", encoding="utf-8") as handle:
                    csv.writer(handle).writerow(self.columns[kind])
        with open(path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow([row.get(c, "") for c in self.columns[kind]])
        if self.writer is not None:
            step = int(row.get("step", 0))
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, grid, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def sample_grid(img0: torch.Tensor, prediction: torch.Tensor, truth: torch.Tensor, flow_01: torch.Tensor) -> np.ndarray:
    """One row ``I0 | prediction | truth | error ×4 | flow_01`` as (H, 5W, 3) uint8 RGB.

    Inputs are single images (3, H, W) in [0, 1] and a (2, H, W) flow in pixels.
    """
    def rgb(x: torch.Tensor) -> np.ndarray:
        return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()

    error = np.clip(np.abs(rgb(prediction) - rgb(truth)) * 4, 0, 1)
    flow = flow_to_color(flow_01.detach().float().cpu().numpy())
    row = np.concatenate([rgb(img0), rgb(prediction), rgb(truth), error, flow], axis=1)
    return (row * 255 + 0.5).astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if ok:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data.tobytes())
