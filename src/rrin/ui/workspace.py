"""Where the web page's files live, and the only paths it may read or write.

One private folder (mode 0700) per running app::

    ROOT/
      cache/          Gradio's upload and result cache (GRADIO_TEMP_DIR): what the page can fetch
        results/ID/   finished outputs, each in a folder of its own
      jobs/ID/        one running job's work: partial outputs; removed when the job ends

Uploads and results older than 4 hours are pruned when a job starts (:meth:`Workspace.prune`);
the whole folder is deleted when the app stops.

Files are read only from the uploads (``cache/`` but not ``cache/results/``) and the
``--share-dir`` folder; every path that comes from the page is resolved (symlinks followed)
and checked against those folders. A file that comes in an API request is accepted only if it
is an upload (:meth:`Workspace.is_upload`), checked before anything opens or copies it. A video
picked from the shared folder is copied into ``cache/`` (:meth:`Workspace.import_shared`), so
the server never hands out the shared folder's files by path.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

from ..errors import InputError

__all__ = ["Workspace", "safe_stem", "INPUT_VIDEO_EXTENSIONS"]

#: Extensions listed from the shared folder and accepted as uploads.
INPUT_VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".nut", ".mpg", ".mpeg", ".ts", ".mts",
                          ".m2ts", ".wmv", ".flv", ".ogv", ".y4m")
_LISTING_LIMIT = 500


def safe_stem(name: str, fallback: str = "video") -> str:
    """A file stem made only of letters, digits, ``-``, ``_`` and ``.`` (at most 60 of them)
    from a name the page sent; ``fallback`` when nothing is left."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:60]
    return stem or fallback


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


class Workspace:
    """The app's private temporary folder and its optional shared folder.

    Args:
        share_dir: a folder whose videos the page may list and read (``--share-dir``), or None.
        parent: where to create the private folder (default: the system's temp folder).
    """

    def __init__(self, share_dir: str | os.PathLike | None = None, parent: str | os.PathLike | None = None) -> None:
        if share_dir is not None:
            share = Path(share_dir).expanduser()
            if not share.is_dir():
                raise InputError(f"--share-dir {share} is not a folder")
            self.share_dir: Path | None = share.resolve()
        else:
            self.share_dir = None
        self.root = Path(tempfile.mkdtemp(prefix="rrin-ui-", dir=parent)).resolve()  # created 0700
        self.cache = self.root / "cache"
        self.jobs = self.root / "jobs"
        self.results = self.cache / "results"
        for folder in (self.cache, self.jobs, self.results):
            folder.mkdir(mode=0o700)

    def is_upload(self, path: str | os.PathLike) -> bool:
        """True if ``path`` (resolved, symlinks followed) is in the upload cache (uploads and
        the shared videos picked, not the results); nothing is opened."""
        if not isinstance(path, (str, os.PathLike)) or not str(path) or "\0" in str(path):
            return False
        resolved = Path(os.path.abspath(path)).resolve()
        return _inside(resolved, self.cache) and not _inside(resolved, self.results)

    def check_input(self, path: str | os.PathLike) -> Path:
        """``path`` resolved, if it is an existing file among the uploads or in the shared
        folder; :class:`InputError` otherwise."""
        resolved = Path(path).resolve()
        shared = self.share_dir is not None and _inside(resolved, self.share_dir)
        if not (self.is_upload(resolved) or shared):
            raise InputError(f"{Path(path).name}: the page can only read uploads and files in the shared folder")
        if not resolved.is_file():
            raise InputError(f"{Path(path).name} is gone: upload it again")
        return resolved

    def shared_videos(self) -> list[str]:
        """Video files in the shared folder (and its subfolders, hidden ones skipped), as
        paths relative to it, sorted; at most 500."""
        if self.share_dir is None:
            return []
        found = []
        for folder, dirs, files in os.walk(self.share_dir):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith(".") or path.suffix.lower() not in INPUT_VIDEO_EXTENSIONS:
                    continue
                if _inside(path.resolve(), self.share_dir):  # symlinks may not lead out
                    found.append(path.relative_to(self.share_dir).as_posix())
                if len(found) >= _LISTING_LIMIT:
                    return found
        return found

    def shared_file(self, name: str) -> Path:
        """The shared folder's file ``name`` (relative, as :meth:`shared_videos` lists it)."""
        if self.share_dir is None:
            raise InputError("no shared folder: start the app with --share-dir DIR")
        if not name or Path(name).is_absolute():
            raise InputError(f"{name!r} is not a file of the shared folder")
        path = (self.share_dir / name).resolve()
        if not _inside(path, self.share_dir) or not path.is_file():
            raise InputError(f"{name!r} is not a file of the shared folder")
        return path

    def import_shared(self, name: str) -> Path:
        """A copy of the shared folder's file ``name`` among the uploads (what the page plays
        and converts), so that the server never serves the shared folder itself."""
        source = self.shared_file(name)
        folder = self.cache / f"shared-{uuid.uuid4().hex}"
        folder.mkdir(mode=0o700)
        target = folder / source.name
        shutil.copyfile(source, target)
        return target

    @contextlib.contextmanager
    def job_folder(self) -> Iterator[Path]:
        """A new private folder for one job, removed with everything in it when the block ends."""
        folder = Path(tempfile.mkdtemp(prefix="job-", dir=self.jobs))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def keep_result_folder(self) -> Path:
        """A new folder ``cache/results/ID/`` for finished files (the page can fetch them)."""
        folder = self.results / uuid.uuid4().hex
        folder.mkdir(mode=0o700)
        return folder

    def keep_result(self, path: Path, name: str | None = None) -> Path:
        """Move a finished file into a new ``cache/results/ID/``."""
        target = self.keep_result_folder() / (name or path.name)
        shutil.move(str(path), target)
        return target

    def prune(self, max_age: float = 4 * 3600) -> int:
        """Delete uploads and results last changed more than ``max_age`` seconds ago (each
        entry of ``cache/`` and ``cache/results/`` as a whole); returns how many went."""
        now = time.time()
        removed = 0
        for folder in (self.results, self.cache):
            for entry in folder.iterdir():
                if entry == self.results:
                    continue
                try:
                    old = now - entry.lstat().st_mtime > max_age
                except FileNotFoundError:
                    continue
                if old:
                    shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                    removed += 1
        return removed

    def relative_message(self, message: str) -> str:
        """``message`` with the private folder's paths cut to file names (the page shows
        it; server paths are none of its business), on one line."""
        root = re.escape(str(self.root)) + r"/(?:[^/\s'\"]+/)*"
        message = re.sub(root, "", message)
        if self.share_dir is not None:
            message = message.replace(str(self.share_dir) + os.sep, "")
        return " ".join(message.split())

    def remove(self) -> None:
        """Delete the private folder and everything in it (the app is stopping)."""
        shutil.rmtree(self.root, ignore_errors=True)
