"""Readers for the evaluation sets: the research benchmarks' layouts and real clips.

Each reader checks the whole layout before any work starts and names the first missing file
in a one-line :class:`rrin.errors.InputError`. Samples are read lazily (:class:`SampleRef`),
all with the ground truth at t = 0.5.

Layouts accepted (``root`` is the folder given with ``--root``):

``vimeo90k``
    ``tri_testlist.txt`` (one ``00001/0389`` per line; 3,782 triplets in the official list)
    and ``sequences/00001/0389/im1.png, im2.png, im3.png``; im2 is the ground truth.
``ucf101``
    The DVF interpolation test set: one folder per sample under ``root`` holding
    ``frame_00.png`` (t = 0), ``frame_02.png`` (t = 1) and ``frame_01_gt.png`` (the ground
    truth), as in the DVF release (its ``frame_01_ours.png`` is ignored). A folder without
    ``frame_02.png`` may instead hold ``frame_01.png`` as its second input.
``middlebury``
    The "other" set: ``other-gt-interp/NAME/frame10i11.png`` for each sequence NAME with a
    ground truth, and ``other-data/NAME/frame10.png, frame11.png``.
``snufilm``
    ``test-easy.txt``, ``test-medium.txt``, ``test-hard.txt``, ``test-extreme.txt``: lines of
    three whitespace-separated image paths (first input, ground truth, second input),
    relative to ``root``; the original lists' ``data/SNU-FILM/`` prefix is also accepted.
``clip``
    Any video file or folder of frames (:func:`load_clip`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.frames import list_frames, natural_key
from ..io.images import read_rgb
from ..io.video import VideoReader
from .harness import Sample

__all__ = ["SampleRef", "DATASETS", "SNUFILM_SUBSETS", "open_dataset", "load_clip", "read_uint8"]

SNUFILM_SUBSETS = ("easy", "medium", "hard", "extreme")


def read_uint8(path: Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB."""
    return read_rgb(path)


@dataclass(frozen=True)
class SampleRef:
    """Where one sample's images are; :meth:`load` reads them as a :class:`Sample`."""

    name: str
    img0: Path
    img1: Path
    gt: Path
    t: float = 0.5

    def load(self) -> Sample:
        return Sample(read_uint8(self.img0), read_uint8(self.img1), read_uint8(self.gt), self.t, self.name)


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InputError(f"dataset layout: missing file {path}")
    return path


def _root(root) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset root {root} is not a folder")
    return root


def vimeo90k(root) -> list[SampleRef]:
    root = _root(root)
    listing = _require(root / "tri_testlist.txt")
    samples = []
    for line in listing.read_text().splitlines():
        name = line.strip()
        if not name:
            continue
        folder = root / "sequences" / name
        samples.append(SampleRef(name, _require(folder / "im1.png"), _require(folder / "im3.png"),
                                 _require(folder / "im2.png")))
    return samples


def ucf101(root) -> list[SampleRef]:
    root = _root(root)
    samples = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), key=natural_key):
        second = folder / "frame_02.png"
        if not second.is_file() and (folder / "frame_01.png").is_file():
            second = folder / "frame_01.png"
        samples.append(SampleRef(folder.name, _require(folder / "frame_00.png"), _require(second),
                                 _require(folder / "frame_01_gt.png")))
    return samples


def middlebury(root) -> list[SampleRef]:
    root = _root(root)
    truth_root = root / "other-gt-interp"
    if not truth_root.is_dir():
        raise InputError(f"dataset layout: missing folder {truth_root}")
    samples = []
    for folder in sorted((p for p in truth_root.iterdir() if p.is_dir()), key=natural_key):
        data = root / "other-data" / folder.name
        samples.append(SampleRef(folder.name, _require(data / "frame10.png"), _require(data / "frame11.png"),
                                 _require(folder / "frame10i11.png")))
    return samples


def snufilm(root, subset: str = "medium") -> list[SampleRef]:
    root = _root(root)
    if subset not in SNUFILM_SUBSETS:
        raise InputError(f"unknown SNU-FILM subset {subset!r}; choose from {', '.join(SNUFILM_SUBSETS)}")
    listing = _require(root / f"test-{subset}.txt")

    def locate(text: str) -> Path:
        path = root / text
        prefix = "data/SNU-FILM/"
        if not path.is_file() and text.startswith(prefix):
            path = root / text[len(prefix):]
        return _require(path)

    samples = []
    for number, line in enumerate(listing.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise InputError(f"{listing}:{number}: expected 3 image paths, found {len(parts)}")
        first, truth, second = (locate(p) for p in parts)
        samples.append(SampleRef(f"{subset}/{number}", first, second, truth))
    return samples


DATASETS = {"vimeo90k": vimeo90k, "ucf101": ucf101, "middlebury": middlebury, "snufilm": snufilm}


def open_dataset(name: str, root, subset: str | None = None, limit: int | None = None) -> list[SampleRef]:
    """The samples of dataset ``name`` under ``root`` (layout checked; at most ``limit``)."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose from {', '.join([*DATASETS, 'clip'])}")
    samples = DATASETS[name](root, subset) if name == "snufilm" and subset else DATASETS[name](root)
    if not samples:
        raise InputError(f"{name} at {root}: no samples found")
    return samples[:limit] if limit else samples


def load_clip(root, frames: int = 41) -> list[np.ndarray]:
    """The first ``frames`` frames of a video file or frame folder, (H, W, 3) uint8 RGB."""
    root = Path(root)
    if root.is_dir():
        paths = list_frames(root)[:frames]
        images = [read_uint8(p) for p in paths]
        for path, image in zip(paths, images):
            if image.shape != images[0].shape:
                raise InputError(f"{path} is {image.shape[1]}x{image.shape[0]}, "
                                 f"the first frame {images[0].shape[1]}x{images[0].shape[0]}")
        return images
    images = []
    with VideoReader(root) as reader:
        for frame in reader:
            images.append(frame.image)
            if len(images) == frames:
                break
    if not images:
        raise InputError(f"{root}: no frames could be decoded")
    return images
