"""Make the README's picture: what the network saw and did on two frames of the sample clip.

    python scripts/make_readme_pictures.py [--model NAME|PATH] [--out docs/images/explain.png]

Decodes frames 20 and 21 of ``examples/bbb_sample.mp4``, interpolates t = 0.5 with the model,
and lays the inputs, the result and the ``--explain`` pictures out in one labelled grid.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from rrin import Interpolator
from rrin.inference.explain import flow_legend, flow_to_color
from rrin.io.video import VideoReader
from rrin.metrics import to_tensor

ROOT = Path(__file__).resolve().parents[1]


def frames(path: Path, indices: tuple[int, int]) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        picked = [frame.image for frame in reader if frame.index in indices]
    return picked


def tile(image: np.ndarray, label: str) -> np.ndarray:
    image = np.clip(image * 255 if image.dtype != np.uint8 else image, 0, 255).astype(np.uint8).copy()
    cv2.rectangle(image, (0, 0), (8 + 9 * len(label), 22), (0, 0, 0), -1)
    cv2.putText(image, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "explain.png")
    args = parser.parse_args()

    img0, img1 = frames(ROOT / "examples" / "bbb_sample.mp4", (20, 21))
    interp = Interpolator(args.model, device="cpu", backend="eager")
    out = interp.run(to_tensor(img0), to_tensor(img1), [0.5])[0]
    arr = lambda t: t[0].permute(1, 2, 0).numpy()
    flows = {name: getattr(out, name)[0].numpy() for name in ("flow_01", "flow_10", "flow_t0", "flow_t1")}
    scale = max(float(np.hypot(f[0], f[1]).max()) for f in flows.values()) or 1.0
    mask = out.mask[0].numpy()
    share0 = 0.5 * mask[0] / (0.5 * mask[0] + 0.5 * mask[1] + 1e-8)
    legend = cv2.resize(flow_legend(96), (96, 96))
    flow_pic = lambda name: flow_to_color(flows[name], scale)
    rows = [
        [tile(img0, "I0 (t=0)"), tile(arr(out.img_t), "RRIN t=0.5"), tile(img1, "I1 (t=1)")],
        [tile(flow_pic("flow_01"), "flow 0->1"), tile(flow_pic("flow_t0"), "flow t->0"), tile(flow_pic("flow_t1"), "flow t->1")],
        [tile(arr(out.img0_warped), "I0 warped to t"), tile(np.repeat(share0[..., None], 3, 2), "weight of warped I0"),
         tile(np.clip(0.5 + 4 * arr(out.residue), 0, 1), "residue x4")],
    ]
    grid = np.vstack([np.hstack(row) for row in rows])
    grid[-96:, -96:] = (legend * 255).astype(np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.resize(grid, (grid.shape[1] // 2 * 2 * 2 // 3, grid.shape[0] // 2 * 2 * 2 // 3))[:, :, ::-1])
    print(args.out)


if __name__ == "__main__":
    main()
