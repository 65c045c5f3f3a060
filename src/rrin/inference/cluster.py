"""``rrin interpolate --cluster``: one conversion spread over the workers of a Ray cluster.

The driver (the machine running the command) prepares the job as one process does
(:func:`~rrin.inference.job.open_job`: the same checks and settings), plans it
(:mod:`rrin.inference.cluster_plan`: segments cut between frame pairs, paired by the
pipeline's own :class:`~rrin.inference.pairing.Pairing`), starts a pool of worker actors
(:class:`~rrin.inference.cluster_task.SegmentWorker`, one CPU each, or one GPU each for a
CUDA device), hands each idle worker the next segment, records every finished segment in
the parts folder's :class:`~rrin.inference.segments.SegmentJournal` and, at the end, joins
the segments with the one-process ``--resume`` path's code
(:func:`~rrin.inference.segments.assemble_segments`: audio, subtitles, colour metadata and
timestamps as in one process). The model's weights
travel once through Ray's object store and each worker builds the model once.

Faults: a worker process that dies is restarted and its segment retried by Ray
(:data:`RETRIES` times); a segment that fails for good ends the job with an
:class:`~rrin.errors.InputError` naming it and its cause; the finished segments stay in
``OUTPUT.rrin-parts`` and ``--resume`` reuses them, also after the driver itself was killed.

Workers read INPUT and write into OUTPUT's parts folder themselves, so both must be on
storage every node sees under the same path; each worker checks that first.

Ray is optional (``pip install "rrin[cluster]"``) and imported only here, when used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..io.atomic import atomic_path, temp_folder
from .cluster_plan import Plan, Segment, plan_segments, source_frames
from .cluster_ray import connect, failure_cause
from .cluster_task import SegmentWorker, TaskSpec
from .convert import ConvertReport, place_frames
from .job import ConvertJob, open_job
from .pipeline import InterpolateResult
from .segments import SegmentJournal, assemble_segments, parts_folder, remove_parts

__all__ = ["ClusterOptions", "convert_on_cluster", "connect", "RETRIES"]

#: How many times Ray restarts a dead worker and retries its segment.
RETRIES = 3
#: Seconds to wait for every worker to start and check the storage.
START_TIMEOUT = 600.0


@dataclass(frozen=True)
class ClusterOptions:
    """``address``: what ``ray.init`` takes (``auto``, ``HOST:PORT``, ``ray://HOST:10001``,
    ``local`` to start a Ray instance on this machine, listening on loopback only);
    ``workers``: at most this many segments at once (default: one per free CPU, or per GPU
    for a CUDA device)."""

    address: str = "auto"
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers must be at least 1, got {self.workers}")


def _check_parts(job: ConvertJob) -> Path:
    """The parts folder; an earlier run's is an error unless ``--resume`` or ``--overwrite``."""
    folder = parts_folder(job.output)
    if folder.exists() and not job.resume and not job.overwrite:
        raise InputError(f"{folder} holds an earlier run's segments: pass --resume to continue it "
                         "or --overwrite to start again")
    return folder


def _prepare_parts(job: ConvertJob, folder: Path) -> None:
    """Create the parts folder (replaced with ``--overwrite``), clearing unfinished segments."""
    if folder.exists() and not job.resume:
        shutil.rmtree(folder)
    folder.mkdir(exist_ok=True)
    for stray in folder.glob(".*"):  # unfinished segments of killed workers
        shutil.rmtree(stray, ignore_errors=True) if stray.is_dir() else stray.unlink(missing_ok=True)


# --- the driver ----------------------------------------------------------------------------

def _weights(model, use_gpu: bool) -> tuple[bytes, str]:
    """The model as float32 safetensors bytes, loaded (and so checked) here first, and its
    :func:`~rrin.model.checkpoint.weights_digest` (the file's header order varies from run
    to run)."""
    from ..model.checkpoint import save_weights, weights_digest
    from ..model.registry import default_model_name, load_model

    source = model if model is not None else default_model_name("cuda" if use_gpu else "cpu")
    loaded = load_model(source, "cpu")
    with tempfile.TemporaryDirectory(prefix="rrin-weights-") as folder:
        path = Path(folder) / "weights.safetensors"
        save_weights(loaded, path, half=False)
        return path.read_bytes(), weights_digest(loaded)


def _worker_count(ray, use_gpu: bool, wanted: int | None, segments: int) -> int:
    """``--workers`` (default: the free CPUs or GPUs), at most the cluster's and the segments'."""
    kind = "GPU" if use_gpu else "CPU"
    total = int(ray.cluster_resources().get(kind, 0))
    if total < 1:
        raise InputError(f"the Ray cluster has no {kind}s" + (" (use --device cpu)" if use_gpu else ""))
    free = int(ray.available_resources().get(kind, 0))
    return max(1, min(wanted or free or total, total, segments))


def convert_on_cluster(job: ConvertJob, cluster: ClusterOptions, model=None, device: str = "auto",
                       precision: str = "auto", backend: str = "auto",
                       progress: Callable[[int], None] | None = None) -> ConvertReport:
    """Run ``job`` on the Ray cluster ``cluster.address``; the result equals :func:`convert`'s.

    ``model``/``device``/``precision``/``backend`` apply on every worker (``cuda:N`` means the
    GPU Ray assigns). The segments are ``job.segment_frames`` output frames long; they, and
    the journal, live in ``OUTPUT.rrin-parts`` until the output is assembled. Raises
    :class:`InputError` for a bad address, an unreachable cluster, a worker that cannot see
    the files, or a segment that failed for good (naming it and the cause).
    """
    clock = time.perf_counter()
    job = replace(job, input=job.input.absolute(), output=job.output.absolute())
    with open_job(job, resume_needs_video=False) as (prepared, reader):  # the checks of one process
        video, options, settings = prepared.video, prepared.options, prepared.settings
        plan = plan_segments(source_frames(reader, options.dedup is not None), options, job.segment_frames)
        size = (reader.height, reader.width)
    folder = _check_parts(job)
    connect_clock = time.perf_counter()
    with connect(cluster.address) as ray:
        connected = time.perf_counter() - connect_clock
        gpus = int(ray.cluster_resources().get("GPU", 0))
        use_gpu = device.startswith("cuda") or (device == "auto" and gpus > 0)
        if use_gpu and not gpus:
            raise InputError(f"--device {device}: the Ray cluster has no GPUs")
        weights, model_digest = _weights(model, use_gpu)
        fingerprint = prepared.fingerprint(model_digest, cluster=1, frames=plan.frames_in)
        journal = SegmentJournal(folder, fingerprint, load=job.resume)  # a foreign one is refused before any change
        _prepare_parts(job, folder)
        spec = TaskSpec(str(job.input), job.input_fps, plan.frames_in, str(folder), settings, options, plan.start,
                        plan.first_pts, job, size[0], size[1], device, precision, backend)
        todo = [s for s in plan.segments if s.number not in journal.done]
        timings = {"decode": 0.0, "model": 0.0, "encode": 0.0, "connect": connected,
                   "setup": time.perf_counter() - clock - connected}
        try:
            if todo:
                _run_segments(ray, spec, weights, todo, plan, journal, cluster, use_gpu, timings, progress)
        except BaseException:
            if not journal.done:  # nothing worth resuming: leave nothing behind
                shutil.rmtree(folder, ignore_errors=True)
            raise
    assemble_clock = time.perf_counter()
    entries = [journal.done[s.number] for s in plan.segments]
    warnings = _assemble(job, folder, entries, settings) if video else _assemble_folder(job, folder, entries)
    timings["assemble"] = time.perf_counter() - assemble_clock
    timings["wall"] = time.perf_counter() - clock
    result = InterpolateResult(frames_in=plan.frames_in, frames_out=plan.frames_out,
                               cuts=sum(e.get("cuts", 0) for e in entries), duplicates=plan.duplicates, timings=timings)
    return ConvertReport(result, warnings)


def _run_segments(ray, spec: TaskSpec, weights: bytes, todo: list[Segment], plan: Plan, journal: SegmentJournal,
                  cluster: ClusterOptions, use_gpu: bool, timings: dict, progress) -> None:
    count = _worker_count(ray, use_gpu, cluster.workers, len(todo))
    actor = ray.remote(SegmentWorker).options(num_cpus=1, num_gpus=1 if use_gpu else 0,
                                              max_restarts=RETRIES, max_task_retries=RETRIES)
    weights_ref = ray.put(weights)
    workers = [actor.remote(spec) for _ in range(count)]
    try:
        clock = time.perf_counter()
        _check_storage(ray, workers)
        timings["start_workers"] = time.perf_counter() - clock
        done = sum(journal.done[n]["frames"] for n in journal.done)
        if progress is not None:
            if hasattr(progress, "total"):
                progress.total = plan.frames_out
            progress(done)
        pending, idle, running = deque(todo), list(workers), {}
        overheads, failure = [], None
        while pending or running:
            while pending and idle:
                segment, worker = pending.popleft(), idle.pop()
                # the weights' reference in a list: Ray passes it on unresolved, each worker fetches it once
                running[worker.run.remote(segment, [weights_ref])] = (segment, worker, time.perf_counter())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                segment, worker, started = running.pop(ref)
                try:
                    info = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - every Ray failure becomes one line
                    # no new segments; those running finish (and stay for --resume): nothing is half-written
                    failure = failure or f"{segment.describe()} failed: {failure_cause(exc, RETRIES)}"
                    pending.clear()
                    continue
                overheads.append(time.perf_counter() - started - info["seconds"])
                for key in ("decode", "model", "encode"):
                    timings[key] += info.get(key, 0.0)
                journal.record({"file": info["file"], "frames": info["frames"], "first_pts": info["first_pts"],
                                "number": segment.number, "cuts": info["cuts"], "duplicates": info["duplicates"]})
                done += info["frames"]
                if progress is not None:
                    progress(done)
                idle.append(worker)
        if failure:
            raise InputError(failure)
        timings["segment_overhead"] = sum(overheads) / len(overheads)
        timings["workers"], timings["segments"] = count, len(todo)
    finally:
        for worker in workers:
            with contextlib.suppress(Exception):  # already gone with its node or the connection
                ray.kill(worker)


def _check_storage(ray, workers: list) -> None:
    """Every worker reads INPUT and writes in the parts folder, or one clear error."""
    refs = [worker.check.remote() for worker in workers]
    try:
        reports = ray.get(refs, timeout=START_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ == "GetTimeoutError":
            raise InputError(f"the {len(workers)} workers did not start within {START_TIMEOUT:.0f} s "
                             "(see `ray status` for the cluster's free resources)") from None
        raise InputError(f"the workers could not start: {failure_cause(exc, RETRIES)}") from None
    for report in reports:
        if report["problem"]:
            raise InputError(f"worker on {report['host']}: {report['problem']}; INPUT and OUTPUT must be on "
                             "storage every node sees under the same path (see docs/cluster.md)")


def _assemble(job: ConvertJob, folder: Path, entries: list[dict], settings) -> list[str]:
    """Join the segments with the one-process --resume path's code."""
    with atomic_path(job.output, overwrite=job.overwrite) as tmp:
        warnings = assemble_segments(folder, entries, tmp, job.input if job.input.is_file() else None, settings)
    remove_parts(job.output)
    return warnings


def _assemble_folder(job: ConvertJob, folder: Path, entries: list[dict]) -> list[str]:
    """Link (or copy) the segments' PNGs into a temporary folder beside OUTPUT, then place it
    as the one-process path does (:func:`~rrin.inference.convert.place_frames`)."""
    output = job.output
    tmp = temp_folder(output)
    try:
        count = 0
        for entry in entries:
            for png in sorted((folder / entry["file"]).iterdir()):
                try:  # a link keeps the parts intact until the output is complete
                    os.link(png, tmp / png.name)
                except OSError:
                    shutil.copy2(png, tmp / png.name)
                count += 1
        place_frames(tmp, output, count, job.overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return []
