"""Write files so that a reader never sees half of one: a temporary name, then a rename."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Iterator

from ..errors import InputError

__all__ = ["atomic_path", "check_writable", "temp_folder"]


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


def _unique_name(folder: Path, prefix: str, suffix: str) -> Iterator[Path]:
    for _ in range(100):
        yield folder / f"{prefix}{secrets.token_hex(4)}{suffix}"
    raise FileExistsError(f"no free temporary name in {folder}")


def _new_file(folder: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file with a unique name. Its mode is 0666 less the umask, as for
    any new file (``tempfile.mkstemp`` would make it 0600, private, for good)."""
    for candidate in _unique_name(folder, prefix, suffix):
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def _new_folder(folder: Path, prefix: str, suffix: str) -> Path:
    """Create an empty folder with a unique name, mode 0777 less the umask."""
    for candidate in _unique_name(folder, prefix, suffix):
        try:
            os.mkdir(candidate, 0o777)
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s extension (or ``suffix``) so format-sniffing
    writers still see it. It is created with the permissions every new file gets (0666 less
    the user's umask: 0644 under umask 022), so outputs are not left private. On error the
    temporary file is removed and ``path`` untouched.
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    tmp = _new_file(path.parent if str(path.parent) else Path("."), f".{path.stem}.", f".partial{suffix}")
    mode = stat.S_IMODE(os.stat(tmp).st_mode)  # 0666 less the umask, applied by the kernel
    try:
        yield tmp
        if tmp.is_file() and stat.S_IMODE(os.stat(tmp).st_mode) != mode:
            os.chmod(tmp, mode)  # a writer that re-created the file (safetensors does) made it 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def temp_folder(path: str | os.PathLike) -> Path:
    """A new empty folder beside ``path`` (``.NAME.XXXXXXXX.partial``), to be filled and
    renamed onto ``path`` by the caller. It gets the permissions of any new folder (0777
    less the umask: 0755 under umask 022), not ``tempfile.mkdtemp``'s private 0700."""
    path = Path(path)
    return _new_folder(path.parent if str(path.parent) else Path("."), f".{path.name}.", ".partial")
