"""Converting a whole video or frame folder: the library side of ``rrin interpolate``.

:func:`convert` validates the job, opens the source, chooses the encode settings from it
(pixel format, bit depth, colour metadata), runs :func:`~rrin.inference.pipeline.interpolate_stream`
into a temporary file (or folder) beside the output and renames it at the end. With
``resume`` it encodes closed segments under ``OUTPUT.rrin-parts`` (see
:mod:`rrin.inference.segments`) and concatenates them at the end.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..io.atomic import atomic_path, check_writable, temp_folder
from ..io.sources import open_source
from ..io.video_writer import (CODECS, VIDEO_EXTENSIONS, EncodeSettings, FrameFolderWriter, VideoWriter,
                               check_container, choose_pix_fmt)
from .pipeline import InterpolateOptions, InterpolateResult, interpolate_stream
from .scenes import DEFAULT_SCENE_THRESHOLD
from .segments import SegmentSink

__all__ = ["CRF_RANGES", "ConvertJob", "ConvertReport", "check_crf", "convert", "encode_settings", "job_backend"]


#: The CRF values each encoder accepts (``libsvtav1`` reads 0 as "unset"; ffv1 is
#: lossless and takes none). Values outside make FFmpeg fail or clamp silently.
CRF_RANGES = {"libx264": (0, 51), "libx265": (0, 51), "libvpx-vp9": (0, 63), "libsvtav1": (1, 63)}


def check_crf(codec: str, crf: int | None) -> None:
    """:class:`InputError` unless ``crf`` is None or in ``codec``'s :data:`CRF_RANGES`."""
    if crf is None or codec not in CODECS:  # an unknown codec is refused when the writer opens
        return
    if codec not in CRF_RANGES:
        raise InputError(f"--crf does not apply to {codec} (it is lossless); leave it out")
    low, high = CRF_RANGES[codec]
    if not low <= crf <= high:
        raise InputError(f"--crf for {codec} must be in {low}..{high} (lower is better), got {crf}")


@dataclass(frozen=True)
class ConvertJob:
    """One conversion. ``output`` is a video file (container from its extension) or a
    folder (no extension) for ``000000.png`` …; see :class:`InterpolateOptions` for the
    frame options and :mod:`rrin.io.video_writer` for ``codec``/``crf``."""

    input: Path
    output: Path
    factor: int | None = 2
    fps: Fraction | None = None
    input_fps: Fraction | None = None  # a frame folder's rate (default 25)
    codec: str = "libx264"
    crf: int | None = None
    batch_size: int = 1
    scene_threshold: float | None = DEFAULT_SCENE_THRESHOLD
    on_cut: str = "repeat"
    dedup: float | None = None
    resume: bool = False
    overwrite: bool = False
    segment_frames: int = 64
    flow_scale: float = 1.0
    tile: int | None = None
    tile_overlap: int = 32

    def __post_init__(self) -> None:
        check_crf(self.codec, self.crf)
        if not 0 < self.flow_scale <= 1:
            raise InputError(f"--flow-scale must be in (0, 1], got {self.flow_scale:g}")
        if self.tile is not None and self.tile != 0 and self.tile < 2 * self.tile_overlap:
            raise InputError(f"--tile must be 0 (never tile) or at least {2 * self.tile_overlap} pixels "
                             f"(twice the tiles' overlap), got {self.tile}")
        if self.tile_overlap < 0:
            raise InputError(f"tile overlap must be at least 0, got {self.tile_overlap}")
        for name in ("batch_size", "segment_frames"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")

    def options(self) -> InterpolateOptions:
        return InterpolateOptions(factor=self.factor if self.fps is None else None, fps=self.fps,
                                  batch_size=self.batch_size, scene_threshold=self.scene_threshold,
                                  on_cut=self.on_cut, dedup=self.dedup)


@dataclass
class ConvertReport:
    result: InterpolateResult
    warnings: list[str] = field(default_factory=list)


def _is_video_output(path: Path) -> bool:
    if path.suffix == "" or path.is_dir():
        return False
    check_container(path)
    return True


def encode_settings(reader, job: ConvertJob) -> EncodeSettings:
    """Output settings from the source: rate/time base from the mode, pix_fmt and colour."""
    if job.fps is not None:
        rate, time_base = job.fps, 1 / job.fps
    else:
        rate, time_base = reader.frame_rate * job.factor, reader.time_base / job.factor
    return EncodeSettings(reader.width, reader.height, rate, time_base, job.codec, job.crf,
                          choose_pix_fmt(job.codec, reader.pix_fmt, reader.bit_depth), reader.color)


def _check_paths(job: ConvertJob) -> bool:
    job.options()  # validates factor/fps/on-cut
    if not job.input.exists():
        raise InputError(f"input {job.input} does not exist")
    video = _is_video_output(job.output)
    if job.output.resolve() == job.input.resolve() and not job.overwrite:
        raise InputError(f"output {job.output} is the input (pass --overwrite to replace it)")
    check_writable(job.output, job.overwrite)
    if job.resume and not video:
        raise InputError("--resume needs a video output file")
    return video


def convert(job: ConvertJob, model=None, device: str = "auto", precision: str = "auto",
            backend: str = "auto", progress: Callable[[int], None] | None = None, run_model: Callable | None = None) -> ConvertReport:
    """Run ``job``; returns the frame counts, warnings and where decoding stopped early.

    ``run_model`` replaces the model call (``(img0, img1, times) -> list of img_t``);
    by default an :class:`~rrin.inference.Interpolator` built from ``model``/``device``/
    ``precision``/``backend``.
    """
    job_backend(job, backend)  # a backend that cannot run the job is refused before any work
    video = _check_paths(job)
    options = job.options()
    with open_source(job.input, deep=True, frame_rate=job.input_fps) as reader:
        if job.fps is not None and job.fps < reader.frame_rate * Fraction(999, 1000):
            raise InputError(f"--fps {float(job.fps):g} is below the input's {reader.fps:g} frames/s")
        settings = encode_settings(reader, job) if video else None
        if progress is not None and hasattr(progress, "total") and reader.frame_count:
            count = reader.frame_count
            progress.total = ((count - 1) * job.factor + 1 if job.fps is None
                              else int((count - 1) / reader.frame_rate * job.fps) + 1)
        if run_model is None:
            run_model = model_runner(job, reader.height, reader.width, model, device, precision, backend)

        source = job.input if job.input.is_file() else None
        if not video:
            return _to_folder(job, reader, options, run_model, progress)
        if job.resume:
            return _resumable(job, reader, settings, options, run_model, progress, source, str(model))
        with atomic_path(job.output) as tmp:
            writer = VideoWriter(tmp, settings, source)
            result = interpolate_stream(reader, writer, run_model, options, progress=progress)
        return ConvertReport(result, writer.warnings)


#: The backends that can run ``--flow-scale``: it calls the PyTorch model's halves itself.
FLOW_SCALE_BACKENDS = ("eager", "eager-nchw")


def job_backend(job: ConvertJob, backend: str = "auto") -> str:
    """The backend the job runs on: ``backend``, except that ``--flow-scale`` (below 1)
    runs in PyTorch, so ``auto`` becomes ``eager`` and any other engine is refused."""
    if job.flow_scale == 1 or not isinstance(backend, str):
        return backend
    if backend == "auto":
        return "eager"
    if backend not in FLOW_SCALE_BACKENDS:
        raise InputError(f"--flow-scale runs the network in PyTorch, so --backend {backend} cannot apply it: "
                         f"use --backend auto or eager, or leave out --flow-scale")
    return backend


def model_runner(job: ConvertJob, height: int, width: int, model=None, device: str = "auto",
                 precision: str = "auto", backend: str = "auto") -> Callable:
    """``(img0, img1, times) -> [img_t]`` for the job: the Interpolator, with flows at
    ``job.flow_scale`` and in tiles when ``job.tile`` is set or (``None``, on CPU) when the
    frame would not fit the available memory (``job.tile`` = 0 never tiles)."""
    from .flowscale import run_flow_scaled
    from .interpolator import Interpolator
    from .tiling import choose_tile, run_tiled

    if not 0 < job.flow_scale <= 1:
        raise InputError(f"--flow-scale must be in (0, 1], got {job.flow_scale:g}")
    interpolator = Interpolator(model, device=device, precision=precision, backend=job_backend(job, backend))
    if job.flow_scale != 1:
        def run(img0, img1, times):
            return run_flow_scaled(interpolator.model, img0, img1, times, job.flow_scale,
                                   interpolator.device, interpolator.dtype)
    else:
        def run(img0, img1, times):
            return [out.img_t for out in interpolator.run(img0, img1, times)]
    tile = job.tile
    config = interpolator.model.config
    if tile is None and interpolator.device.type == "cpu":
        tile = choose_tile(height, width, config.base_width, config.size_multiple, job.tile_overlap)
    if not tile:
        return run
    return lambda img0, img1, times: run_tiled(run, img0, img1, times, tile, job.tile_overlap)


def _to_folder(job, reader, options, run_model, progress) -> ConvertReport:
    tmp = temp_folder(job.output)
    try:
        result = interpolate_stream(reader, FrameFolderWriter(tmp), run_model, options, progress=progress)
        if job.output.exists():
            shutil.rmtree(job.output) if job.output.is_dir() else job.output.unlink()
        os.replace(tmp, job.output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ConvertReport(result)


def _resumable(job, reader, settings, options, run_model, progress, source, model_name) -> ConvertReport:
    stat = job.input.stat()
    fingerprint = {"input": str(job.input.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                   "options": repr(options), "settings": repr(settings), "segment_frames": job.segment_frames,
                   "model": model_name, "flow_scale": job.flow_scale, "tile": job.tile}
    sink = SegmentSink(job.output, settings, fingerprint, job.segment_frames)
    result = interpolate_stream(reader, sink, run_model, options, skip_frames=sink.done_frames, progress=progress)
    with atomic_path(job.output) as tmp:
        warnings = sink.assemble(tmp, source)
    sink.remove()
    return ConvertReport(result, warnings)
