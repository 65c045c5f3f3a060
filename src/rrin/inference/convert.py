"""Converting a whole video or frame folder: the library side of ``rrin interpolate``.

:func:`convert` prepares the job (:func:`~rrin.inference.job.open_job`: checks, the encode
settings from the source — pixel format, bit depth, colour metadata), runs
:func:`~rrin.inference.pipeline.interpolate_stream` into a temporary file (or folder) beside
the output and renames it at the end. With ``resume`` it encodes closed segments under
``OUTPUT.rrin-parts`` (see :mod:`rrin.inference.segments`) and concatenates them at the end.

``overwrite`` replaces only what rrin writes: the output file, or in an output folder the
frame files ``000000.png``, … (other files in it stay). Without it an output that appears
while the job runs (another run to the same output) is kept and the job fails. An output
that is the input, or a folder that holds the input, is refused whatever ``overwrite`` says.
A full disk is one :class:`~rrin.errors.NoSpaceError`; the finished segments of a
``--resume`` run stay.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..io.atomic import atomic_path, no_space_errors, rename_new, temp_folder
from ..io.video_writer import FrameFolderWriter, VideoWriter
from .job import CRF_RANGES, ConvertJob, PreparedJob, check_crf, encode_settings, open_job
from .pipeline import InterpolateResult, interpolate_stream
from .segments import SegmentSink, remove_parts

__all__ = ["CRF_RANGES", "ConvertJob", "ConvertReport", "check_crf", "convert", "encode_settings",
           "model_runner", "ModelRunner", "model_digest"]


@dataclass
class ConvertReport:
    result: InterpolateResult
    warnings: list[str] = field(default_factory=list)


#: The names of the frames a folder output holds (``%06d.png``).
_FRAME_NAME = re.compile(r"\d{6,}\.png")


def convert(job: ConvertJob, model=None, device: str = "auto", precision: str = "auto",
            backend: str = "auto", progress: Callable[[int], None] | None = None, run_model: Callable | None = None) -> ConvertReport:
    """Run ``job``; returns the frame counts, warnings and where decoding stopped early.

    ``run_model`` replaces the model call (``(img0, img1, times) -> img_t`` for each t, a
    list or, to keep memory flat, an iterator computing them as they are taken);
    by default an :class:`~rrin.inference.Interpolator` built from ``model``/``device``/
    ``precision``/``backend``. A ``--resume`` journal records the weights of the model
    that runs (with ``run_model``: of ``model``, None if it is None).
    """
    with open_job(job) as (prepared, reader):
        if progress is not None and hasattr(progress, "total") and prepared.frames_out:
            progress.total = prepared.frames_out
        if run_model is None:
            run_model = model_runner(job, reader.height, reader.width, model, device, precision, backend)
            digest = run_model.digest if job.resume else None
        else:
            digest = model_digest(model) if job.resume else None

        source = job.input if job.input.is_file() else None
        if not prepared.video:
            return _to_folder(job, reader, prepared.options, run_model, progress)
        if job.resume:
            return _resumable(prepared, reader, run_model, progress, source, digest)
        with atomic_path(job.output, overwrite=job.overwrite) as tmp:
            writer = VideoWriter(tmp, prepared.settings, source)
            result = interpolate_stream(reader, writer, run_model, prepared.options, progress=progress)
        remove_parts(job.output)  # an earlier --resume run's segments of this output are stale now
        return ConvertReport(result, writer.warnings)


def model_digest(model) -> str | None:
    """:func:`~rrin.model.checkpoint.weights_digest` of ``model`` (an :class:`RRIN`, a
    shipped name or a weights file); None for None."""
    if model is None:
        return None
    from ..model.checkpoint import weights_digest
    from ..model.registry import load_model
    from ..model.rrin import RRIN

    return weights_digest(model if isinstance(model, RRIN) else load_model(model, "cpu"))


#: Time steps per tiled model call: the tiled path holds this many full frames at once.
TILED_CHUNK = 8


def model_runner(job: ConvertJob, height: int, width: int, model=None, device: str = "auto",
                 precision: str = "auto", backend: str = "auto") -> "ModelRunner":
    """``(img0, img1, times) -> iterator of img_t`` for the job: the Interpolator, with
    flows at ``job.flow_scale`` and in tiles when ``job.tile`` is set or (``None``, on CPU)
    when the frame would not fit the available memory (``job.tile`` = 0 never tiles).

    The frames are computed as they are taken (:meth:`Interpolator.iter_run`; tiled:
    :data:`TILED_CHUNK` time steps at a time), so a pair with many new frames never holds
    them all in memory. Flows at another scale are estimated by the model's own flow stage,
    then everything else runs on the chosen backend; tiles of a DIS-flow model get their
    crop of the whole frame's flows."""
    import torch

    from .flowscale import flows_at_scale
    from .interpolator import Interpolator
    from .tiling import choose_tile, iter_tiled

    interpolator = Interpolator(model, device=device, precision=precision, backend=backend)
    network = interpolator.model

    def scaled_flows(img0, img1):
        with torch.inference_mode():
            return flows_at_scale(network, img0.to(interpolator.device), img1.to(interpolator.device), job.flow_scale)

    def run(img0, img1, times, flows=None):
        if flows is None and job.flow_scale != 1:
            flows = scaled_flows(img0, img1)
        return (out.img_t for out in interpolator.iter_run(img0, img1, times, flows))

    tile = job.tile
    config = network.config
    if tile is None and interpolator.device.type == "cpu":
        tile = choose_tile(height, width, config.base_width, config.size_multiple, job.tile_overlap)

    def run_in_tiles(img0, img1, times, flows=None):
        # DIS or scaled flows come from the whole frame, once per pair, cropped per tile.
        if flows is None and (config.flow == "dis" or job.flow_scale != 1):
            flows = scaled_flows(img0, img1)
        return iter_tiled(run, img0, img1, times, tile, job.tile_overlap, TILED_CHUNK, flows)

    # DIS runs on the CPU without the GIL: the pipeline computes it ahead, beside the network.
    return ModelRunner(run_in_tiles if tile else run, scaled_flows if config.flow == "dis" else None, network)


@dataclass(frozen=True)
class ModelRunner:
    """What :func:`model_runner` returns: ``run(img0, img1, times, flows=None)`` → an
    iterator of (B, 3, H, W) frames, and ``flow_fn(img0, img1)`` → :class:`Flows`, the
    flows the pipeline may compute ahead in its reader thread (``None``: the model's own,
    run inside ``run``); ``network``: the :class:`RRIN` that runs."""

    run: Callable
    flow_fn: Callable | None = None
    network: object = None

    def __call__(self, img0, img1, times, flows=None):
        return self.run(img0, img1, times, flows)

    @property
    def digest(self) -> str | None:
        """:func:`~rrin.model.checkpoint.weights_digest` of :attr:`network` (None without one)."""
        return model_digest(self.network)


def _to_folder(job, reader, options, run_model, progress) -> ConvertReport:
    """Frames into a temporary folder beside the output, then :func:`place_frames`."""
    tmp = temp_folder(job.output)
    try:
        with no_space_errors(job.output):
            writer = FrameFolderWriter(tmp)
            result = interpolate_stream(reader, writer, run_model, options, progress=progress)
        place_frames(tmp, job.output, writer.count, job.overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ConvertReport(result)


def place_frames(new: Path, output: Path, count: int, overwrite: bool) -> None:
    """Make the folder ``new`` of ``count`` frames the ``output`` folder: renamed to it when
    there is none (:func:`rename_new`: one that appeared meanwhile is kept, :class:`InputError`),
    or, with ``overwrite`` and an existing folder, its frames moved into it one by one
    (that folder loses the frames of an earlier run past the new count, nothing else)."""
    if overwrite and output.is_dir():
        _replace_frames(new, output, count)
    else:
        rename_new(new, output)


def _replace_frames(new: Path, folder: Path, count: int) -> None:
    """Move the ``count`` frames of ``new`` into ``folder``, drop ``folder``'s other frame
    files (``%06d.png`` numbered ``count`` or more), remove ``new``."""
    for index in range(count):
        name = f"{index:06d}.png"
        os.replace(new / name, folder / name)
    for entry in folder.iterdir():
        if _FRAME_NAME.fullmatch(entry.name) and int(entry.stem) >= count and entry.is_file():
            entry.unlink()
    new.rmdir()


def _resumable(prepared: PreparedJob, reader, run_model, progress, source, digest: str | None) -> ConvertReport:
    job = prepared.job
    sink = SegmentSink(job.output, prepared.settings, prepared.fingerprint(digest), job.segment_frames)
    with no_space_errors(job.output, f"; the finished segments stay in {sink.folder}: free some space and "
                                     "rerun with --resume"):
        result = interpolate_stream(reader, sink, run_model, prepared.options, skip_frames=sink.done_frames,
                                    progress=progress)
        with atomic_path(job.output, overwrite=job.overwrite) as tmp:
            warnings = sink.assemble(tmp, source)
    sink.remove()
    return ConvertReport(result, warnings)
