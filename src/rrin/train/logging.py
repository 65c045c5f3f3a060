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

__all__ = ["RunLogger", "drop_rows_after", "sample_grid"]


class RunLogger:
    """Appends rows to ``log.jsonl`` and ``<kind>.csv`` (kinds: train, val) in ``run_dir``.

    A CSV's columns are those of its first row; later rows fill missing ones with blanks.
    TensorBoard events go to ``run_dir/tensorboard`` when ``tensorboard`` is importable.
    """

    def __init__(self, run_dir: Path, tensorboard: bool = True, resume_step: int | None = None) -> None:
        """``resume_step``: the step of the checkpoint a resumed run continues from. Rows
        logged after it (by the process that died before its next checkpoint) are dropped,
        so the resumed run's rows for those steps are the only ones."""
        self.run_dir = run_dir
        self.columns: dict[str, list[str]] = {}
        self.writer = None
        if resume_step is not None:
            drop_rows_after(run_dir, resume_step)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                purge = None if resume_step is None else resume_step + 1  # events from that step on are replaced
                self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=purge)
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


def _at_or_before(value: Any, step: int) -> bool:
    """Whether a logged ``step`` value is a readable step ≤ ``step``."""
    try:
        return int(float(value)) <= step
    except (TypeError, ValueError, OverflowError):
        return False


def drop_rows_after(run_dir: Path, step: int) -> None:
    """Rewrite ``log.jsonl`` and every ``*.csv`` of ``run_dir`` (atomically, and only when
    something changes) without the rows past ``step``, and without rows a killed process
    left half-written (no readable step)."""
    for path in sorted(run_dir.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        if not rows or "step" not in rows[0]:
            continue
        column = rows[0].index("step")
        kept = [row for row in rows[1:] if len(row) == len(rows[0]) and _at_or_before(row[column], step)]
        if len(kept) != len(rows) - 1:
            with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows([rows[0], *kept])
    path = run_dir / "log.jsonl"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = []
        for line in lines:
            try:
                value = json.loads(line).get("step")
            except (json.JSONDecodeError, AttributeError):
                continue
            if _at_or_before(value, step):
                kept.append(line)
        if len(kept) != len(lines):
            with atomic_path(path) as tmp:
                tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


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
