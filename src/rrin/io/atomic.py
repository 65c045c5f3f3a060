"""Write files so that a reader never sees half of one: a temporary name, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import InputError

__all__ = ["atomic_path", "check_writable"]


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse an existing ``path`` unless ``overwrite``; check its folder can be written."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists (pass --overwrite to replace it)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"output folder {folder} is not writable")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s extension (or ``suffix``) so format-sniffing
    writers still see it. On error the temporary file is removed and ``path`` untouched.
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{suffix}", dir=path.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
