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

__all__ = ["MANIFEST", "FORMAT", "read_manifest", "write_manifest", "empty_split_hint", "ManifestClips"]

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


def empty_split_hint(manifest: dict[str, Any], split: str) -> str:
    """What to change in ``rrin make-dataset`` (or the training config) when ``split``
    (``"train"`` or ``"val"``) of ``manifest`` holds no clips."""
    fraction = float(manifest.get("val_fraction", 0.1))
    if split == "train":
        return f"--val-fraction {fraction:g} sends every clip to validation: remake the dataset with a smaller one (e.g. 0.1)"
    if fraction <= 0:
        return ("it was made with --val-fraction 0: remake it with --val-fraction 0.1, "
                "or point the training config's data.val_path at another dataset")
    sources = manifest.get("sources", {})
    mode = manifest.get("split", "auto")
    if mode == "sources" or (mode == "auto" and len(sources) > 1):
        if len(sources) < 2:
            return "--split sources needs several sources (one goes to validation): remake it with --split segments"
        return "the sources picked for validation gave no clips: remake it with --split segments or a larger --val-fraction"
    every = max(1, round(1 / fraction))
    segment = int(manifest.get("segment_frames", 600))
    span = (int(manifest.get("clip_length", 3)) - 1) * int(manifest.get("frame_step", 1)) + 1
    stride = int(manifest.get("stride") or span)
    frames = max((int(c["start"]) + span for c in manifest.get("clips", [])), default=0)
    why = (f"validation is one segment in {every} of --segment-frames {segment} frames, which a source needs "
           f"at least {(every - 1) * segment + span} frames to reach (the clips here end by frame {frames})")
    # A segment that is a multiple of the stride and holds a clip puts one at each segment start.
    smallest = -(-span // stride) * stride
    fitting = ((frames - span) // max(every - 1, 1)) // stride * stride
    if fitting >= smallest:
        return f"{why}: remake it with a smaller --segment-frames (e.g. {fitting}) or a larger --val-fraction"
    segments = (frames - span) // smallest + 1 if frames >= span else 0
    if segments >= 2:
        return f"{why}: remake it with --segment-frames {smallest} --val-fraction {1 / segments:.3g}, or add longer sources"
    return f"{why}: the source is too short to split; add sources, or point the training config's data.val_path at another dataset"


class ManifestClips:
    """The clips of one split (``"train"``, ``"val"`` or ``"all"``) of a dataset folder."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        self.clip_length = int(manifest["clip_length"])
        self.entries = [c for c in manifest["clips"] if split == "all" or c["split"] == split]
        self.name = f"{self.root.name}:{split}"
        if not self.entries:
            raise InputError(f"{self.root} has no {split} clips: {empty_split_hint(manifest, split)}")
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
