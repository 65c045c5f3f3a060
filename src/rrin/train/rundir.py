"""The run folder: what it holds and whether it is finished.

::

    RUN/config.toml          resolved configuration
    RUN/status.json          {"state": "running" | "stopped" | "finished" | "failed", "step": …}
    RUN/checkpoints/last.pt  latest checkpoint (also step_XXXXXXX.pt, best.pt)
    RUN/log.jsonl, train.csv, val.csv, samples/, tensorboard/

``status.json`` says "finished" only after the last checkpoint is written, so a folder left
by a crash is never taken for a finished run; while running, its step is that of the latest
checkpoint (what ``--resume`` continues from). A resumed run drops the log rows past that
step before logging again (see :func:`rrin.train.logging.drop_rows_after`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.atomic import atomic_path

__all__ = ["prepare_run_dir", "write_status", "read_status", "last_checkpoint"]


def last_checkpoint(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.pt"


def read_status(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "status.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def write_status(run_dir: Path, state: str, **extra: Any) -> None:
    with atomic_path(run_dir / "status.json") as tmp:
        tmp.write_text(json.dumps({"state": state, **extra}), encoding="utf-8")


def prepare_run_dir(run_dir: Path, *, resume: bool, overwrite: bool) -> bool:
    """Create or check ``run_dir``; returns True when a checkpoint should be resumed.

    Raises:
        InputError: the folder holds a run and neither ``resume`` nor ``overwrite`` is set,
            or ``resume`` is set and there is no checkpoint.
    """
    occupied = run_dir.is_dir() and any(run_dir.iterdir())
    if resume:
        if not last_checkpoint(run_dir).is_file():
            raise InputError(f"{run_dir} has no checkpoint to resume (expected {last_checkpoint(run_dir)})")
        return True
    if occupied:
        if not overwrite:
            state = read_status(run_dir).get("state", "unknown")
            raise InputError(f"run folder {run_dir} already holds a run (state: {state}); pass --resume or --overwrite")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return False
