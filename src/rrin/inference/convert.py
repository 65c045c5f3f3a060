"""Converting a whole video or frame folder: the library side of ``rrin interpolate``.

:func:`convert` validates the job, opens the source, chooses the encode settings from it
(pixel format, bit depth, colour metadata), runs :func:`~rrin.inference.pipeline.interpolate_stream`
into a temporary file (or folder) beside the output and renames it at the end. With
``resume`` it encodes closed segments under ``OUTPUT.rrin-parts`` (see
:mod:`rrin.inference.segments`) and concatenates them at the end.

``overwrite`` replaces only what rrin writes: the output file, or in an output folder the
frame files ``000000.png``, … (other files in it stay). An output that is the input, or a
folder that holds the input, is refused whatever ``overwrite`` says.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..io.atomic import atomic_path, check_writable, temp_folder
from ..io.codecs import VIDEO_EXTENSIONS, output_codec
from ..io.sources import open_source
from ..io.video_writer import (CODECS, EncodeSettings, FrameFolderWriter, VideoWriter,
                               check_container, choose_pix_fmt)
from .pipeline import MAX_FPS_RATIO, InterpolateOptions, InterpolateResult, interpolate_stream
from .scenes import CUT_MODES, DEFAULT_SCENE_THRESHOLD
from .segments import SegmentSink, remove_parts

__all__ = ["CRF_RANGES", "ConvertJob", "ConvertReport", "check_crf", "convert", "encode_settings"]


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
    frame options and :mod:`rrin.io.codecs` for ``codec``/``crf`` (``codec`` None: the
    container's own, libvpx-vp9 for .webm and libx264 otherwise)."""

    input: Path
    output: Path
    factor: int | None = 2
    fps: Fraction | None = None
    input_fps: Fraction | None = None  # a frame folder's rate (default 25)
    codec: str | None = None
    crf: int | None = None
    batch_size: int = 1
    scene_threshold: float | None = DEFAULT_SCENE_THRESHOLD
    on_cut: str = CUT_MODES[0]
    dedup: float | None = None
    resume: bool = False
    overwrite: bool = False
    segment_frames: int = 64
    flow_scale: float = 1.0
    tile: int | None = None
    tile_overlap: int = 32

    def __post_init__(self) -> None:
        if Path(self.output).suffix.lower() in VIDEO_EXTENSIONS:  # refuse a codec the file cannot hold now
            object.__setattr__(self, "codec", output_codec(self.output, self.codec))
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
    """Output settings from the source: rate/time base from the mode; pix_fmt, colour,
    pixel shape and rotation kept."""
    if job.fps is not None:
        rate, time_base = job.fps, 1 / job.fps
    else:
        rate, time_base = reader.frame_rate * job.factor, reader.time_base / job.factor
    pix_fmt = choose_pix_fmt(job.codec, reader.pix_fmt, reader.bit_depth, reader.width, reader.height)
    return EncodeSettings(reader.width, reader.height, rate, time_base, job.codec, job.crf, pix_fmt, reader.color,
                          getattr(reader, "sample_aspect_ratio", None), getattr(reader, "display_matrix", None))


#: The names of the frames a folder output holds (``%06d.png``).
_FRAME_NAME = re.compile(r"\d{6,}\.png")


def _check_paths(job: ConvertJob) -> bool:
    job.options()  # validates factor/fps/on-cut
    if not job.input.exists():
        raise InputError(f"input {job.input} does not exist")
    source, target = job.input.resolve(), job.output.resolve()
    if target == source or (job.output.exists() and os.path.samefile(job.output, job.input)):
        raise InputError(f"output {job.output} is the input: choose another output")
    if target in source.parents:
        raise InputError(f"output folder {job.output} contains the input {job.input}: choose another output")
    video = _is_video_output(job.output)
    if not video and job.output.exists() and not job.output.is_dir():
        raise InputError(f"output {job.output} is a file, not a frame folder: choose another output")
    check_writable(job.output, job.overwrite)
    if job.resume and not video:
        raise InputError("--resume needs a video output file")
    return video


def convert(job: ConvertJob, model=None, device: str = "auto", precision: str = "auto",
            backend: str = "auto", progress: Callable[[int], None] | None = None, run_model: Callable | None = None) -> ConvertReport:
    """Run ``job``; returns the frame counts, warnings and where decoding stopped early.

    ``run_model`` replaces the model call (``(img0, img1, times) -> img_t`` for each t, a
    list or, to keep memory flat, an iterator computing them as they are taken);
    by default an :class:`~rrin.inference.Interpolator` built from ``model``/``device``/
    ``precision``/``backend``.
    """
    video = _check_paths(job)
    options = job.options()
    with open_source(job.input, deep=True, frame_rate=job.input_fps) as reader:
        if job.fps is not None and job.fps < reader.frame_rate * Fraction(999, 1000):
            raise InputError(f"--fps {float(job.fps):g} is below the input's {reader.fps:g} frames/s")
        if job.fps is not None and job.fps > reader.frame_rate * MAX_FPS_RATIO:
            raise InputError(f"--fps {float(job.fps):g} is more than {MAX_FPS_RATIO} times the input's "
                             f"{reader.fps:g} frames/s")
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
        remove_parts(job.output)  # an earlier --resume run's segments of this output are stale now
        return ConvertReport(result, writer.warnings)


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
    return ModelRunner(run_in_tiles if tile else run, scaled_flows if config.flow == "dis" else None)


@dataclass(frozen=True)
class ModelRunner:
    """What :func:`model_runner` returns: ``run(img0, img1, times, flows=None)`` → an
    iterator of (B, 3, H, W) frames, and ``flow_fn(img0, img1)`` → :class:`Flows`, the
    flows the pipeline may compute ahead in its reader thread (``None``: the model's own,
    run inside ``run``)."""

    run: Callable
    flow_fn: Callable | None = None

    def __call__(self, img0, img1, times, flows=None):
        return self.run(img0, img1, times, flows)


def _to_folder(job, reader, options, run_model, progress) -> ConvertReport:
    """Frames into a temporary folder beside the output, then: a new output is that folder
    renamed; an existing one (``overwrite``) gets the new frames renamed into it one by one
    and loses the frames of an earlier run past the new count, nothing else."""
    tmp = temp_folder(job.output)
    try:
        writer = FrameFolderWriter(tmp)
        result = interpolate_stream(reader, writer, run_model, options, progress=progress)
        if job.output.is_dir():
            _replace_frames(tmp, job.output, writer.count)
        else:
            os.rename(tmp, job.output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ConvertReport(result)


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
