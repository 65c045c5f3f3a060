"""Turn clips from any reader into training and validation samples (torch tensors).

A sample is a dict: ``img0``, ``img_t``, ``img1`` (3, H, W) float32 in [0, 1] RGB, ``t``
(float32 scalar: the time of ``img_t``, 0 = img0, 1 = img1) and, when flow is wanted,
``flow`` (4, H, W) float32 = ``flow_01`` (u, v), ``flow_10`` (u, v) in pixels.

Training samples are addressed by ``(index, position)``: ``position`` is the sample's place
in the run's global sample stream and seeds its random choices (crop, flips, t), so a
sample is the same whatever the worker, the rank or a resume.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import Sample, augment, center_crop
from .hardness import error_weighted_crop
from ..metrics import to_tensor
from ..model.dis import dis_flows

__all__ = ["TrainingSamples", "ValidationSamples", "pick_frames", "to_tensors"]


def pick_frames(frames: list[np.ndarray], reader, index: int, multi_t: bool, rng: np.random.Generator | None,
                random_span: bool = False):
    """([I0, I_t, I1], t) from a clip of 3, 7 or 9 frames.

    N > 3 frames: t = k/(N-1) with k drawn from 1..N-2 when ``multi_t`` and ``rng`` are given, else
    the middle frame (t = 0.5). With ``random_span`` (and ``rng``) the end frames are drawn
    too: 2 to N-1 frames apart anywhere in the clip, t = k/span, so one dataset holds every
    motion size from a frame pair's to three times it. 3 frames: the reader's
    ``time_of(index)`` if it has one.
    """
    if len(frames) == 3:
        t = reader.time_of(index) if hasattr(reader, "time_of") else 0.5
        return frames, t
    last = len(frames) - 1
    if random_span and rng is not None:
        span = int(rng.integers(2, last + 1))
        start = int(rng.integers(0, last - span + 1))
        k = int(rng.integers(1, span))
        return [frames[start], frames[start + k], frames[start + span]], k / span
    k = int(rng.integers(1, last)) if (multi_t and rng is not None) else last // 2
    return [frames[0], frames[k], frames[last]], k / last


def to_tensors(sample: Sample, want_flow: bool) -> dict[str, torch.Tensor]:
    def image(array: np.ndarray) -> torch.Tensor:
        return to_tensor(array)[0]

    out = {"img0": image(sample.frames[0]), "img_t": image(sample.frames[1]), "img1": image(sample.frames[2]),
           "t": torch.tensor(sample.t, dtype=torch.float32)}
    if want_flow:
        out["flow"] = torch.from_numpy(np.ascontiguousarray(sample.flow, dtype=np.float32))
    return out


class TrainingSamples(Dataset):
    """Augmented samples of ``reader``; indexed by ``(index, position)`` pairs."""

    def __init__(self, reader, augment_options, *, seed: int = 0, multi_t: bool = False, random_span: bool = False,
                 want_flow: bool = False, flow_fn=dis_flows, estimated_flow: bool = False) -> None:
        """``flow_fn(frame0, frame1) -> (4, H, W)`` computes the flows of a sample that has
        none stored (DIS by default; a DIS-flow model passes its own preset).
        ``estimated_flow``: the flows are a network input, so they must be what inference
        computes: a reader's exact flows (synthetic motion) are replaced by ``flow_fn``'s."""
        self.reader, self.options = reader, augment_options
        self.seed, self.multi_t, self.random_span, self.want_flow = seed, multi_t, random_span, want_flow
        self.flow_fn = flow_fn
        self.use_stored = not (estimated_flow and getattr(reader, "exact_flow", False))

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        index, position = key
        rng = np.random.default_rng([self.seed, position])
        clip = self.reader.clip(index)
        frames, t = pick_frames(clip.frames, self.reader, index, self.multi_t, rng, self.random_span)
        ends = frames[0] is clip.frames[0] and frames[-1] is clip.frames[-1]
        flow = clip.flow if ends and self.use_stored else None
        if self.want_flow and flow is None:
            flow = self.flow_fn(frames[0], frames[-1])
        sample = Sample(frames, t, flow)
        candidates = getattr(self.options, "crop_candidates", 1)
        if candidates > 1 and flow is not None:  # the window where the synthesis errs, before the flips
            sample = error_weighted_crop(sample, self.options.crop, rng, candidates)
        if not self.want_flow:
            sample.flow = None
        sample = augment(sample, self.options, rng)
        return to_tensors(sample, self.want_flow)


class ValidationSamples(Dataset):
    """Up to ``limit`` evenly spaced clips of ``reader``, centre-cropped to ``crop`` (0: full)."""

    def __init__(self, reader, *, limit: int = 64, crop: int = 0) -> None:
        self.reader, self.crop = reader, crop
        count = len(reader) if limit <= 0 else min(limit, len(reader))
        self.indices = np.linspace(0, len(reader) - 1, count).round().astype(int).tolist() if count else []

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        index = self.indices[item]
        frames, t = pick_frames(self.reader.clip(index).frames, self.reader, index, False, None)
        return to_tensors(center_crop(Sample(frames, t), self.crop), False)
