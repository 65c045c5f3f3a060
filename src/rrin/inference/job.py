"""One conversion job, checked and prepared the same way wherever it runs.

:class:`ConvertJob` says what to make; :func:`open_job` checks the paths, opens the source,
checks the job against it (``--fps`` bounds), chooses the encode settings, the expected
output frame count and describes the job for a resume journal (:meth:`PreparedJob.fingerprint`).
Both :func:`~rrin.inference.convert.convert` (one process) and
:func:`~rrin.inference.cluster.convert_on_cluster` start with it, so they accept and refuse
the same jobs.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..io.atomic import check_writable
from ..io.codecs import VIDEO_EXTENSIONS, output_codec
from ..io.sources import open_source
from ..io.video_writer import CODECS, EncodeSettings, check_container, choose_pix_fmt
from .pipeline import MAX_FPS_RATIO, InterpolateOptions
from .scenes import CUT_MODES, DEFAULT_SCENE_THRESHOLD

__all__ = ["CRF_RANGES", "ConvertJob", "PreparedJob", "check_crf", "check_rate", "encode_settings",
           "expected_frames", "open_job"]


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


def check_rate(fps: Fraction | None, input_rate: Fraction) -> None:
    """:class:`InputError` unless ``--fps`` (None: ``--factor``) is at least the input's
    rate and at most :data:`MAX_FPS_RATIO` times it."""
    if fps is None:
        return
    if fps < input_rate * Fraction(999, 1000):
        raise InputError(f"--fps {float(fps):g} is below the input's {float(input_rate):g} frames/s")
    if fps > input_rate * MAX_FPS_RATIO:
        raise InputError(f"--fps {float(fps):g} is more than {MAX_FPS_RATIO} times the input's "
                         f"{float(input_rate):g} frames/s")


def expected_frames(count: int, input_rate: Fraction, factor: int | None, fps: Fraction | None) -> int:
    """The output frames ``count`` input frames make: (n−1)·N+1 for ``factor``,
    ⌊(n−1)/rate·fps⌋+1 for ``fps`` (with ``--dedup`` or variable frame rates, about)."""
    if fps is None:
        return (count - 1) * factor + 1
    return int((count - 1) / input_rate * fps) + 1


def _is_video_output(path: Path) -> bool:
    if path.suffix == "" or path.is_dir():
        return False
    check_container(path)
    return True


def _check_paths(job: ConvertJob, resume_needs_video: bool) -> bool:
    """The paths' checks; whether the output is a video file."""
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
    if job.resume and not video and resume_needs_video:
        raise InputError("--resume needs a video output file")
    return video


@dataclass(frozen=True)
class PreparedJob:
    """A checked job and what its source decides: ``video`` (a video output, else a frame
    folder), the frame ``options``, the encode ``settings`` (None for a folder) and
    ``frames_out``, the output frames expected from the source's frame count (None when
    the container does not say)."""

    job: ConvertJob
    video: bool
    options: InterpolateOptions
    settings: EncodeSettings | None
    frames_out: int | None

    def fingerprint(self, model_digest: str | None, **extra) -> dict:
        """What a resume journal records of the job, to refuse mixing segments of another
        one: the input (path, size, mtime), the options, the encode settings, the segment
        length, the model's weights (``model_digest``, see
        :func:`~rrin.model.checkpoint.weights_digest`), flow scale and tiles, and ``extra``."""
        job, stat = self.job, self.job.input.stat()
        return {"input": str(job.input.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "options": repr(self.options), "settings": repr(self.settings), "video": self.video,
                "segment_frames": job.segment_frames, "model": model_digest, "flow_scale": job.flow_scale,
                "tile": job.tile, **extra}


@contextlib.contextmanager
def open_job(job: ConvertJob, *, resume_needs_video: bool = True) -> Iterator[tuple[PreparedJob, object]]:
    """Check ``job``, open its source and yield the :class:`PreparedJob` and the open reader.

    Raises :class:`InputError` (before anything is written) for a missing input, an output
    that is the input or holds it, an existing output without ``overwrite``, ``--resume``
    with a folder output (unless not ``resume_needs_video``: the cluster makes folder
    segments), and an ``--fps`` below the input's rate or above :data:`MAX_FPS_RATIO` times it.
    """
    video = _check_paths(job, resume_needs_video)
    options = job.options()
    with open_source(job.input, deep=True, frame_rate=job.input_fps) as reader:
        check_rate(job.fps, reader.frame_rate)
        settings = encode_settings(reader, job) if video else None
        count = reader.frame_count
        frames_out = expected_frames(count, reader.frame_rate, job.factor, job.fps) if count else None
        yield PreparedJob(job, video, options, settings, frames_out), reader
