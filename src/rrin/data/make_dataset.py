"""Cut videos (or folders of frames) into training clips: ``rrin make-dataset``.

Clips are ``clip_length`` frames (3: triplets, 7: septuplets, 9: spans up to 8 frames) taken ``frame_step`` frames
apart, a new clip every ``stride`` frames. Each frame is resized to cover ``size`` and
centre-cropped to it at creation. Two measures, on 64×36 grey thumbnails in [0, 1]:

* **scene cut**: the mean absolute difference between two consecutive frames exceeds
  ``cut_threshold`` (default :data:`~rrin.inference.scenes.DEFAULT_SCENE_THRESHOLD`, the
  measure and threshold ``rrin interpolate`` uses) — a clip spanning such a pair is skipped;
* **near-static**: the mean absolute difference between the clip's first and last frame is
  below ``min_motion`` (default 0.003, under one grey level on average) — skipped. On Big
  Buck Bunny (first 6000 frames, pairs two frames apart) this measure has quartiles
  0.0017 / 0.0054 / 0.0141, so the default drops roughly the calmest third.

Split (``split``): ``sources`` sends whole sources to validation (``val_fraction`` of them,
at least one, chosen by a stable hash of their names); ``segments`` cuts every source into
segments of ``segment_frames`` frames and makes every ``round(1/val_fraction)``-th segment
validation, dropping clips that cross a segment boundary, so no frame is in both splits.
``auto`` (the default) is ``segments`` for a single source and ``sources`` for several.

Resumable: the manifest is rewritten after every finished source; a rerun with
``resume=True`` and the same inputs and options skips finished sources. An existing dataset is never replaced unless
``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from ..io.frames import list_frames
from ..io.images import IMAGE_EXTENSIONS
from ..io.video import VideoReader
from ..inference.scenes import DEFAULT_SCENE_THRESHOLD, difference, thumbnail
from ..model.dis import dis_flows
from ..options import CLIP_LENGTHS, parse_size
from .clips import read_rgb8
from .manifest import FORMAT, MANIFEST, empty_split_hint, read_manifest, write_manifest

__all__ = ["MakeDatasetOptions", "make_dataset", "split_warnings", "find_sources", "VIDEO_EXTENSIONS", "CLIP_LENGTHS", "parse_size"]

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m", ".ts"}


@dataclass(frozen=True)
class MakeDatasetOptions:
    """``size``: (width, height) or None to keep the source size."""

    clip_length: int = 3
    stride: int = 0  # 0: clip span (non-overlapping)
    frame_step: int = 1
    size: tuple[int, int] | None = None
    cut_threshold: float = DEFAULT_SCENE_THRESHOLD
    min_motion: float = 0.003
    val_fraction: float = 0.1
    segment_frames: int = 600
    max_clips: int = 0  # per source, 0 = all
    flow: bool = False
    split: str = "auto"  # "auto", "sources" or "segments"

    def __post_init__(self) -> None:
        if self.clip_length not in CLIP_LENGTHS:
            raise InputError(f"clip length must be one of {', '.join(map(str, CLIP_LENGTHS))}, got {self.clip_length}")
        if self.frame_step < 1 or self.stride < 0:
            raise InputError("frame step must be ≥ 1 and stride ≥ 0")
        if not 0.0 <= self.val_fraction < 1.0:
            raise InputError(f"validation fraction must be in [0, 1), got {self.val_fraction}")
        if self.split not in ("auto", "sources", "segments"):
            raise InputError(f"split must be auto, sources or segments, got {self.split!r}")

    @property
    def span(self) -> int:
        return (self.clip_length - 1) * self.frame_step + 1


def find_sources(inputs: Sequence[str | Path]) -> list[Path]:
    """Video files and frame folders among ``inputs`` (folders are searched one level)."""
    sources: list[Path] = []
    for item in map(Path, inputs):
        if item.is_file():
            sources.append(item)
        elif item.is_dir():
            videos = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
            has_images = any(p.suffix.lower() in IMAGE_EXTENSIONS for p in item.iterdir())
            if videos:
                sources.extend(videos)
            elif has_images:
                sources.append(item)
            else:
                sources.extend(sorted(p for p in item.iterdir() if p.is_dir()))
        else:
            raise InputError(f"input {item} does not exist")
    if not sources:
        raise InputError("no videos or frame folders found in the inputs")
    return sources


def _frames(source: Path, counted: Callable[[int, int | None], None] | None = None) -> Iterator[np.ndarray]:
    """The source's frames, RGB uint8; ``counted(done, total)`` after each frame is read
    (``total``: the folder's frames or the container's frame count, None if it does not say)."""
    counted = counted or (lambda done, total: None)
    if source.is_dir():
        paths = list_frames(source)
        for done, path in enumerate(paths, 1):
            image = read_rgb8(path)
            counted(done, len(paths))
            yield image
        return
    with VideoReader(source) as reader:
        total = reader.frame_count
        for done, frame in enumerate(reader, 1):
            counted(done, total)
            yield frame.image
        if reader.error:
            raise InputError(f"{source}: {reader.error}")


def _fit(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize to cover (width, height), then centre-crop to it."""
    if size is None:
        return image
    width, height = size
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    if (new_w, new_h) != (w, h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y, x = (new_h - height) // 2, (new_w - width) // 2
    return np.ascontiguousarray(image[y:y + height, x:x + width])


def _stable_hash(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def _source_names(sources: Sequence[Path]) -> list[str]:
    names, seen = [], {}
    for source in sources:
        base = "".join(c if c.isalnum() or c in "-_." else "_" for c in source.stem) or "source"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return names


def _val_sources(names: Sequence[str], fraction: float) -> set[str]:
    if len(names) < 2 or fraction <= 0:
        return set()
    count = max(1, round(fraction * len(names)))
    return set(sorted(names, key=lambda n: (_stable_hash(n), n))[:count])


def _clips_of(source: Path, options: MakeDatasetOptions,
              counted: Callable[[int, int | None], None] | None = None) -> Iterator[tuple[int, list[np.ndarray], str]]:
    """(start index, frames, reason) per candidate clip; reason '' when kept. ``counted``:
    as for :func:`_frames`."""
    stride = options.stride or options.span
    window: deque[tuple[int, np.ndarray, np.ndarray]] = deque(maxlen=options.span)
    last_cut = -1  # index of the first frame after the most recent cut
    previous = None
    for index, image in enumerate(_frames(source, counted)):
        thumb = thumbnail(image)
        if previous is not None and difference(thumb, previous) > options.cut_threshold:
            last_cut = index
        previous = thumb
        window.append((index, image, thumb))
        start = index - options.span + 1
        if start < 0 or start % stride:
            continue
        picked = [window[i] for i in range(0, options.span, options.frame_step)]
        if last_cut > start:
            yield start, [], "scene cut"
            continue
        if difference(picked[-1][2], picked[0][2]) < options.min_motion:
            yield start, [], "static"
            continue
        sizes = {p[1].shape for p in picked}
        if len(sizes) != 1:
            raise InputError(f"{source}: frames change size at frame {start}")
        yield start, [p[1] for p in picked], ""


def make_dataset(
    inputs: Sequence[str | Path],
    out: str | Path,
    options: MakeDatasetOptions = MakeDatasetOptions(),
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    on_frames: Callable[[str, int, int | None], None] | None = None,
) -> dict:
    """Build (or continue) a clip dataset in ``out``; returns the manifest.

    ``progress`` gets one line per finished source (its clips and what was skipped);
    ``on_frames(name, done, total)`` is called after each frame read from a source: its
    name in the dataset, the frames read from it so far and its frame count (None when the
    container does not say).

    Raises:
        InputError: missing inputs, an existing dataset without ``resume``/``overwrite``,
            or ``resume`` with different options.
    """
    sources = find_sources(inputs)
    names = _source_names(sources)
    out = Path(out)
    settings = {
        "clip_length": options.clip_length, "stride": options.stride or options.span,
        "frame_step": options.frame_step, "size": list(options.size) if options.size else None,
        "cut_threshold": options.cut_threshold, "min_motion": options.min_motion,
        "val_fraction": options.val_fraction, "segment_frames": options.segment_frames,
        "max_clips": options.max_clips, "flow": options.flow, "split": options.split,
        "inputs": [str(p) for p in sources],
    }
    manifest = {"format": FORMAT, "version": 1, **settings, "sources": {}, "clips": []}
    if out.exists() and any(out.iterdir()):
        if overwrite:
            shutil.rmtree(out)
        elif resume and (out / MANIFEST).is_file():
            manifest = read_manifest(out)
            changed = [k for k, v in settings.items() if manifest.get(k) != v]
            if changed:
                raise InputError(f"{out} was made with different options ({', '.join(changed)}); use --overwrite")
        else:
            raise InputError(f"{out} already exists and is not empty (pass --resume to continue it or --overwrite to replace it)")
    out.mkdir(parents=True, exist_ok=True)
    by_segments = options.split == "segments" or (options.split == "auto" and len(sources) == 1)
    val_names = set() if by_segments else _val_sources(names, options.val_fraction)
    every = max(1, round(1 / options.val_fraction)) if options.val_fraction > 0 else 0
    for source, name in zip(sources, names):
        if manifest["sources"].get(name, {}).get("done"):
            continue
        folder = out / "clips" / name
        folder.mkdir(parents=True, exist_ok=True)
        clips, skipped = [], {"scene cut": 0, "static": 0, "boundary": 0}
        counted = None if on_frames is None else (lambda done, total, name=name: on_frames(name, done, total))
        for start, frames, reason in _clips_of(source, options, counted):
            if options.max_clips and len(clips) >= options.max_clips:
                break
            if reason:
                skipped[reason] += 1
                continue
            split = "val" if name in val_names else "train"
            if by_segments and every:
                segment = start // options.segment_frames
                if segment != (start + options.span - 1) // options.segment_frames:
                    skipped["boundary"] += 1
                    continue
                split = "val" if segment % every == every - 1 else "train"
            frames = [_fit(f, options.size) for f in frames]
            entry = {"id": f"{name}/{start:06d}", "source": name, "start": start, "split": split,
                     "file": f"clips/{name}/{start:06d}.npy"}
            with atomic_path(out / entry["file"]) as tmp:
                np.save(tmp, np.stack(frames))
            if options.flow:
                entry["flow"] = f"clips/{name}/{start:06d}.flow.npy"
                with atomic_path(out / entry["flow"]) as tmp:
                    np.save(tmp, dis_flows(frames[0], frames[-1]).astype(np.float16))
            clips.append(entry)
        manifest["clips"] = [c for c in manifest["clips"] if c["source"] != name] + clips
        manifest["sources"][name] = {"path": str(source), "done": True, "clips": len(clips), "skipped": skipped}
        write_manifest(out, manifest)
        if progress:
            counts = ", ".join(f"{v} {k}" for k, v in skipped.items() if v)
            progress(f"{name}: {len(clips)} clips" + (f" (skipped {counts})" if counts else ""))
    if not manifest["clips"]:
        raise InputError("no clips were kept (all static, cut, or the sources are too short)")
    return manifest


def split_warnings(manifest: dict) -> list[str]:
    """One line per empty split of a finished dataset: ``rrin train`` needs both, so say
    now what to change (``--val-fraction``, ``--segment-frames``, ``--split``)."""
    warnings = []
    for split, name in (("train", "training"), ("val", "validation")):
        if not any(clip["split"] == split for clip in manifest["clips"]):
            warnings.append(f"no {name} clips, so 'rrin train' cannot use this dataset as it is: "
                            + empty_split_hint(manifest, split))
    return warnings
