"""Vimeo90K readers: the triplet and the septuplet datasets in their released layout.

Layout (``ROOT`` is ``vimeo_triplet`` or ``vimeo_septuplet``)::

    ROOT/sequences/00001/0001/im1.png … im3.png   (im1 … im7 for septuplets)
    ROOT/tri_trainlist.txt, tri_testlist.txt      (sep_trainlist.txt, sep_testlist.txt)

Each list line names a sequence folder (``00001/0001``). ``split`` "train" reads the train
list, "val" or "test" the test list.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .clips import Clip, check_clip, read_rgb8

__all__ = ["VimeoClips"]


class VimeoClips:
    """Vimeo90K triplets (``septuplet=False``) or septuplets, one split."""

    def __init__(self, root: str | Path, split: str = "train", *, septuplet: bool = False) -> None:
        self.root = Path(root)
        self.clip_length = 7 if septuplet else 3
        prefix = "sep" if septuplet else "tri"
        listing = self.root / f"{prefix}_{'train' if split == 'train' else 'test'}list.txt"
        if not self.root.is_dir():
            raise InputError(f"Vimeo90K folder {self.root} does not exist")
        if not listing.is_file():
            raise InputError(f"{self.root} has no {listing.name} (is it a Vimeo90K {'septuplet' if septuplet else 'triplet'} folder?)")
        self.sequences = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        if not self.sequences:
            raise InputError(f"{listing} lists no sequences")
        self.name = f"vimeo_{prefix}:{split}"

    def __len__(self) -> int:
        return len(self.sequences)

    def clip(self, index: int) -> Clip:
        folder = self.root / "sequences" / self.sequences[index]
        if not folder.is_dir():
            raise InputError(f"Vimeo90K sequence {folder} is missing")
        frames = [read_rgb8(folder / f"im{i}.png") for i in range(1, self.clip_length + 1)]
        return Clip(check_clip(frames, str(folder)))
