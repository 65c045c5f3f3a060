"""A plain folder of consecutive frames (or a folder of such folders) as clips.

Clips of ``clip_length`` consecutive frames, one every ``clip_length`` frames (no overlap).
Every ``val_every``-th clip of each sequence is validation (``split="val"``), the others
training (``split="train"``); ``split="all"`` takes every clip.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..io.frames import list_frames
from ..io.images import IMAGE_EXTENSIONS
from .clips import Clip, check_clip, read_rgb8

__all__ = ["FolderClips"]


class FolderClips:
    def __init__(self, root: str | Path, split: str = "train", *, clip_length: int = 3, val_every: int = 10) -> None:
        self.root = Path(root)
        self.clip_length = clip_length
        if not self.root.is_dir():
            raise InputError(f"frame folder {self.root} does not exist")
        has_images = any(p.suffix.lower() in IMAGE_EXTENSIONS for p in self.root.iterdir())
        folders = [self.root] if has_images else sorted(p for p in self.root.iterdir() if p.is_dir())
        self.clips: list[list[Path]] = []
        for folder in folders:
            frames = list_frames(folder)
            starts = range(0, len(frames) - clip_length + 1, clip_length)
            for number, start in enumerate(starts):
                is_val = number % val_every == val_every - 1
                if split == "all" or (split == "train") != is_val:
                    self.clips.append(frames[start:start + clip_length])
        if not self.clips:
            raise InputError(f"{self.root} has no {split} clips of {clip_length} frames")
        self.name = f"{self.root.name}:{split}"

    def __len__(self) -> int:
        return len(self.clips)

    def clip(self, index: int) -> Clip:
        paths = self.clips[index]
        return Clip(check_clip([read_rgb8(p) for p in paths], str(paths[0].parent)))
