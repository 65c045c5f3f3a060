"""Write files so that a reader never sees half of one: a temporary name, then a rename.

Temporary names are ``.STEM.PID-HOST.XXXXXXXX.partialSUFFIX`` (files) and
``.NAME.PID-HOST.XXXXXXXX.partial`` (folders) beside the final path: the writer's process id
and a tag of its host are in the name, so a later run can tell the leftovers of a killed
process (``kill -9``, a power cut) from those of one still writing and remove only the
former (:func:`remove_stale_partials`, which :func:`check_writable` calls).

The final rename replaces an existing file only when asked (``overwrite``): otherwise it
refuses a file that appeared while the temporary one was being written (another run to the
same output finished first), atomically where the system allows (``renameat2`` with
``RENAME_NOREPLACE``, else a hard link).

A full disk (or quota, or file size limit) while writing becomes one
:class:`~rrin.errors.NoSpaceError` naming the output, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
from pathlib import Path
from typing import Iterator

from ..errors import InputError, NoSpaceError

__all__ = ["atomic_path", "check_writable", "temp_folder", "rename_new", "remove_stale_partials",
           "no_space_errors", "NO_SPACE"]

#: The errors of a write that ran out of room, in words.
NO_SPACE = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file too large for the file system or the file size limit"}


@contextlib.contextmanager
def no_space_errors(path: str | os.PathLike, hint: str = "") -> Iterator[None]:
    """Turn an :class:`OSError` of a full disk (:data:`NO_SPACE`) raised in the block into one
    :class:`NoSpaceError`: "no space left on device while writing PATH" and ``hint`` (which
    is also added to a :class:`NoSpaceError` from inside, naming a file written on the way)."""
    try:
        yield
    except NoSpaceError as exc:
        if not hint:
            raise
        raise NoSpaceError(f"{exc}{hint}") from exc.__cause__
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        raise NoSpaceError(f"{NO_SPACE[exc.errno]} while writing {path}{hint}") from exc


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse an existing ``path`` unless ``overwrite``; check its folder can be written.

    Also removes what killed rrin processes left for ``path`` (:func:`remove_stale_partials`).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists (pass --overwrite to replace it)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"output folder {folder} is not writable")
    remove_stale_partials(path)
    return path


# --- temporary names ---------------------------------------------------------------------

def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def _owner() -> str:
    return f"{os.getpid()}-{_host_tag()}"


def _unique_name(folder: Path, prefix: str, suffix: str) -> Iterator[Path]:
    owner = _owner()
    for _ in range(100):
        yield folder / f"{prefix}{owner}.{secrets.token_hex(4)}{suffix}"
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


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _partial_names(path: Path) -> tuple[re.Pattern, re.Pattern]:
    """The temporary names :func:`atomic_path` (a file) and :func:`temp_folder` (a folder)
    give for ``path``; in each, group 1 is the process id and group 2 the host tag."""
    owner = r"\.(\d+)-([0-9a-f]{6})\.[0-9a-f]{8}"
    file = re.escape(f".{path.stem}") + owner + re.escape(f".partial{path.suffix}")
    folder = re.escape(f".{path.name}") + owner + re.escape(".partial")
    return re.compile(file), re.compile(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partials(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files and folders that rrin processes which died without
    cleaning up (``kill -9``, a crash, a power cut) left for ``path``; returns them.

    Only names rrin gives ``path``'s temporaries are considered, and only those whose
    process id is not a live process on this host (one written on another host, or by a
    process still running, stays).
    """
    path = Path(path)
    folder, names, host = _parent(path), _partial_names(path), _host_tag()
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = names[0].fullmatch(entry.name) or names[1].fullmatch(entry.name)
        if not match or match.group(2) != host or _alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


# --- renaming without replacing -----------------------------------------------------------

def _renameat2_noreplace(source: Path, target: Path) -> bool:
    """``renameat2(..., RENAME_NOREPLACE)``; False where the system or file system lacks it."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    import ctypes

    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is None:  # a C library older than glibc 2.28
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_noreplace = -100, 1
    if function(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_noreplace) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # a file system that cannot do it (some network ones)
    raise OSError(code, os.strerror(code), str(source), None, str(target))


def _exists_error(path: Path) -> InputError:
    return InputError(f"{path} appeared while rrin was writing it (another run to the same output?); "
                      "left it as it is: pass --overwrite to replace it")


def rename_new(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Rename the file or folder ``source`` to ``target`` unless ``target`` exists.

    Atomic with ``renameat2(RENAME_NOREPLACE)`` (Linux), else, for a file, a hard link then
    removing ``source``; elsewhere (a folder without ``renameat2``, a file system without
    hard links) a check then a rename. Raises :class:`InputError` when ``target`` exists.
    """
    source, target = Path(source), Path(target)
    try:
        if _renameat2_noreplace(source, target):
            return
        if not source.is_dir():
            try:
                os.link(source, target, follow_symlinks=False)
            except FileExistsError:
                raise
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                    raise
            else:
                os.unlink(source)
                return
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
        os.rename(source, target)
    except FileExistsError:
        raise _exists_error(target) from None
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise _exists_error(target) from None
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s extension (or ``suffix``) so format-sniffing
    writers still see it. It is created with the permissions every new file gets (0666 less
    the user's umask: 0644 under umask 022), so outputs are not left private. On error
    (also Ctrl-C) the temporary file is removed and ``path`` untouched; a full disk is one
    :class:`NoSpaceError` naming ``path``.

    ``overwrite``: replace ``path`` if it exists (rrin's own files: journals, logs,
    checkpoints); ``False`` for a user's output checked with :func:`check_writable`
    at the start: a file that appeared at ``path`` meanwhile is kept and the write fails
    with :class:`InputError` (see :func:`rename_new`).
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    tmp = _new_file(_parent(path), f".{path.stem}.", f".partial{suffix}")
    try:
        mode = stat.S_IMODE(os.stat(tmp).st_mode)  # 0666 less the umask, applied by the kernel
        with no_space_errors(path):
            yield tmp
            if tmp.is_file() and stat.S_IMODE(os.stat(tmp).st_mode) != mode:
                os.chmod(tmp, mode)  # a writer that re-created the file (safetensors does) made it 0600
            if overwrite:
                os.replace(tmp, path)
            else:
                rename_new(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def temp_folder(path: str | os.PathLike) -> Path:
    """A new empty folder beside ``path`` (``.NAME.PID-HOST.XXXXXXXX.partial``), to be filled
    and renamed onto ``path`` by the caller (:func:`rename_new`). It gets the permissions of
    any new folder (0777 less the umask: 0755 under umask 022), not ``tempfile.mkdtemp``'s
    private 0700."""
    path = Path(path)
    return _new_folder(_parent(path), f".{path.name}.", ".partial")
