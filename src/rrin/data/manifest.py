"""Our clip dataset layout, written by ``rrin make-dataset`` and read for training.

Layout of a dataset folder::

    manifest.json                 # format, clip_length, size, sources, clips
    clips/<source>/<start>.npy    # (N, H, W, 3) uint8 RGB, N = clip_length
    clips/<source>/<start>.flow.npy   # optional (4, H, W) float16: flow_01, flow_10

``manifest.json`` is rewritten atomically after each source video, so it only ever lists
finished sources and clips whose files exist. Each clip has a ``split``: ``train`` or
``val``. Flows are DIS optical flow between the clip's first and last frame, in pixels;
``flow_01[0]`` is the horizontal displacement from the first frame to the last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from .clips import Clip, check_clip

__all__ = ["MANIFEST", "FORMAT", "read_manifest", "write_manifest", "ManifestClips"]

MANIFEST = "manifest.json"
FORMAT = "rrin-clips"


def read_manifest(root: str | Path) -> dict[str, Any]:
    root = Path(root)
    path = root / MANIFEST
    if not root.is_dir():
        raise InputError(f"dataset folder {root} does not exist")
    if not path.is_file():
        raise InputError(f"{root} has no {MANIFEST} (make one with 'rrin make-dataset')")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is not an rrin clip manifest")
    return manifest


def write_manifest(root: str | Path, manifest: dict[str, Any]) -> None:
    with atomic_path(Path(root) / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


class ManifestClips:
    """The clips of one split (``"train"``, ``"val"`` or ``"all"``) of a dataset folder."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        self.clip_length = int(manifest["clip_length"])
        self.entries = [c for c in manifest["clips"] if split == "all" or c["split"] == split]
        self.name = f"{self.root.name}:{split}"
        if not self.entries:
            raise InputError(f"{self.root} has no {split} clips")
        self.has_flow = all("flow" in c for c in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def clip(self, index: int) -> Clip:
        entry = self.entries[index]
        path = self.root / entry["file"]
        try:
            frames = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not a readable clip: {exc}") from None
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise InputError(f"{path}: expected (N, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
        flow = None
        if "flow" in entry:
            flow = np.load(self.root / entry["flow"], allow_pickle=False).astype(np.float32)
        return Clip(check_clip(list(frames), str(path)), flow)
