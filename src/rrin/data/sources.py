"""Build the reader a training config names (``data.kind`` + ``data.path``)."""

from __future__ import annotations

from ..errors import ConfigError
from .folder import FolderClips
from .manifest import ManifestClips
from .synthetic import SyntheticClips
from .vimeo90k import VimeoClips

__all__ = ["build_reader"]

#: Synthetic validation uses its own seed range, never a training sample.
_VAL_SEED_OFFSET = 1_000_003


def build_reader(kind: str, path: str, split: str, data, seed: int = 0):
    """A reader (``len``, ``clip(i)``, ``clip_length``) for ``split`` ("train" or "val").

    ``data`` is the config's ``DataSection`` (synthetic sizes, multi-t).
    """
    if not path:
        raise ConfigError(f"data.{'path' if split == 'train' else 'val_path'} is empty: name the dataset folder")
    if kind == "manifest":
        return ManifestClips(path, split)
    if kind in ("vimeo_triplet", "vimeo_septuplet"):
        return VimeoClips(path, split, septuplet=kind == "vimeo_septuplet")
    if kind == "folder":
        return FolderClips(path, split)
    if kind == "synthetic":
        is_val = split != "train"
        return SyntheticClips(
            path, size=data.synthetic_size, layers=data.synthetic_layers, max_motion=data.synthetic_max_motion,
            length=max(1, data.val_samples) if is_val else data.synthetic_length,
            seed=seed + _VAL_SEED_OFFSET if is_val else seed, multi_t=data.multi_t,
        )
    raise ConfigError(f"unknown data kind {kind!r}")
