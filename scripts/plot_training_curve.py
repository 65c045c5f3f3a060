#!/usr/bin/env python
"""Draw a run's validation curve (PSNR of the raw and EMA weights against blending) as a PNG.

    python scripts/plot_training_curve.py RUN_DIR OUT.png [--title TEXT] [--reference DB --reference-label TEXT]

``--reference`` draws a constant line at DB instead of the frame blend (e.g. the untrained
DIS synthesis a ``dis`` run starts from, which the blend line would only squash).

Reads ``RUN_DIR/log.jsonl`` (written by ``rrin train``); needs only OpenCV.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, MARGIN = 640, 360, 56
COLOURS = {"EMA": (200, 90, 20), "raw": (120, 180, 250), "blend": (90, 90, 90)}  # BGR


def read_validation(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    return [row for row in rows if row.get("kind") == "val"]


def draw(rows: list[dict], title: str, reference: tuple[str, float] | None = None) -> np.ndarray:
    steps = np.array([row["step"] for row in rows], float)
    label, level = reference if reference is not None else ("blend", rows[0]["blend_psnr"])
    series = {"EMA": np.array([row["psnr_ema"] for row in rows]), "raw": np.array([row["psnr"] for row in rows]),
              label: np.full(len(rows), level)}
    spread = max(v.max() for v in series.values()) - min(v.min() for v in series.values())
    pad, unit = (0.25, 1.0) if spread > 1 else (0.05, 0.1)  # a narrow curve gets a finer scale
    low = np.floor((min(v.min() for v in series.values()) - pad) / unit) * unit
    high = np.ceil((max(v.max() for v in series.values()) + pad) / unit) * unit
    image = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    left, right, top, bottom = MARGIN, WIDTH - 20, 36, HEIGHT - 40

    def point(step: float, value: float) -> tuple[int, int]:
        x = left + (right - left) * step / max(steps.max(), 1)
        y = bottom - (bottom - top) * (value - low) / (high - low)
        return int(round(x)), int(round(y))

    font = cv2.FONT_HERSHEY_SIMPLEX
    for value in np.arange(low, high + 1e-9, 0.5 if 1 < high - low <= 4 else 1.0 if high - low > 4 else 0.05):
        y = point(0, value)[1]
        cv2.line(image, (left, y), (right, y), (230, 230, 230), 1)
        cv2.putText(image, f"{value:.2f}", (6, y + 4), font, 0.4, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.rectangle(image, (left, top), (right, bottom), (0, 0, 0), 1)
    for step in np.linspace(0, steps.max(), 5):
        x = point(step, low)[0]
        cv2.putText(image, f"{int(step)}", (x - 12, bottom + 16), font, 0.4, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(image, "step", (right - 30, bottom + 32), font, 0.4, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(image, title, (left, 24), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS.get(name, COLOURS["blend"])
        points = np.array([point(s, v) for s, v in zip(steps, values)], np.int32)
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)
        for p in points:
            cv2.circle(image, tuple(int(c) for c in p), 3, colour, -1, cv2.LINE_AA)
        y = top + 18 + 16 * index
        cv2.line(image, (left + 10, y - 4), (left + 35, y - 4), colour, 2)
        cv2.putText(image, f"{name} PSNR (dB)", (left + 40, y), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--title", default="validation PSNR")
    parser.add_argument("--reference", type=float, default=None, help="a constant line at this PSNR instead of the blend")
    parser.add_argument("--reference-label", default="reference")
    args = parser.parse_args()
    rows = read_validation(args.run)
    if not rows:
        parser.error(f"{args.run / 'log.jsonl'} has no validation rows")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    reference = (args.reference_label, args.reference) if args.reference is not None else None
    if not cv2.imwrite(str(args.out), draw(rows, args.title, reference)):
        parser.error(f"could not write {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
