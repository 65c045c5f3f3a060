"""Folders of numbered frames: listing in natural order."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from .images import IMAGE_EXTENSIONS

__all__ = ["natural_key", "list_frames"]


def natural_key(path: Path) -> list:
    """Sort key that orders ``2.png`` before ``10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_frames(folder: str | Path) -> list[Path]:
    """The image files of ``folder`` in natural order; :class:`InputError` if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"frame folder {folder} does not exist")
    frames = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()), key=natural_key)
    if not frames:
        raise InputError(f"{folder} holds no image files ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    return frames
