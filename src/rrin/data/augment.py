"""Augmentations of one training sample, each switchable, all on numpy arrays.

A sample here is ``frames`` (a list of (H, W, 3) uint8 RGB arrays: I0, I_t, I1), ``t`` (the
time of I_t, 0 = I0, 1 = I1) and optionally ``flow`` ((4, H, W) float32: ``flow_01`` then
``flow_10`` in pixels, ``flow_01[0]`` the horizontal displacement from frame 0 to frame 1).
Geometric transforms move the flow vectors with the pixels; temporal reversal swaps the
end frames, the two flows, and maps t → 1 − t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sample", "random_crop", "hflip", "vflip", "reverse", "permute_channels", "rot90", "augment"]


@dataclass
class Sample:
    frames: list[np.ndarray]  # [I0, I_t, I1], (H, W, 3) uint8
    t: float
    flow: np.ndarray | None = None  # (4, H, W) float32: flow_01 (u, v), flow_10 (u, v)


def random_crop(sample: Sample, size: int, rng: np.random.Generator) -> Sample:
    """The same random ``size``×``size`` window of every frame (and the flow)."""
    height, width = sample.frames[0].shape[:2]
    if size <= 0 or (height <= size and width <= size):
        return sample
    ch, cw = min(size, height), min(size, width)
    y = int(rng.integers(0, height - ch + 1))
    x = int(rng.integers(0, width - cw + 1))
    frames = [f[y:y + ch, x:x + cw] for f in sample.frames]
    flow = None if sample.flow is None else sample.flow[:, y:y + ch, x:x + cw]
    return Sample(frames, sample.t, flow)


def center_crop(sample: Sample, size: int) -> Sample:
    height, width = sample.frames[0].shape[:2]
    if size <= 0:
        return sample
    ch, cw = min(size, height), min(size, width)
    y, x = (height - ch) // 2, (width - cw) // 2
    frames = [f[y:y + ch, x:x + cw] for f in sample.frames]
    flow = None if sample.flow is None else sample.flow[:, y:y + ch, x:x + cw]
    return Sample(frames, sample.t, flow)


def hflip(sample: Sample) -> Sample:
    """Mirror left–right: horizontal flow components change sign."""
    flow = None
    if sample.flow is not None:
        flow = sample.flow[:, :, ::-1] * np.array([-1, 1, -1, 1], np.float32)[:, None, None]
    return Sample([f[:, ::-1] for f in sample.frames], sample.t, flow)


def vflip(sample: Sample) -> Sample:
    """Mirror top–bottom: vertical flow components change sign."""
    flow = None
    if sample.flow is not None:
        flow = sample.flow[:, ::-1, :] * np.array([1, -1, 1, -1], np.float32)[:, None, None]
    return Sample([f[::-1] for f in sample.frames], sample.t, flow)


def reverse(sample: Sample) -> Sample:
    """Play backwards: I0 ↔ I1, flow_01 ↔ flow_10, t → 1 − t."""
    frames = [sample.frames[2], sample.frames[1], sample.frames[0]]
    flow = None if sample.flow is None else np.concatenate([sample.flow[2:4], sample.flow[0:2]])
    return Sample(frames, 1.0 - sample.t, flow)


def permute_channels(sample: Sample, order: np.ndarray) -> Sample:
    """Reorder the colour channels of every frame (the same ``order`` for all)."""
    return Sample([f[..., order] for f in sample.frames], sample.t, sample.flow)


def rot90(sample: Sample, k: int) -> Sample:
    """Rotate by k × 90° counter-clockwise (``np.rot90``); flow vectors rotate with it.

    One counter-clockwise turn sends pixel (x, y) of a W-wide image to (y, W − 1 − x), so a
    displacement (u, v) becomes (v, −u).
    """
    k %= 4
    frames = [np.rot90(f, k) for f in sample.frames]
    flow = sample.flow
    if flow is not None:
        flow = np.rot90(flow, k, axes=(1, 2))
        for _ in range(k):
            flow = np.stack([flow[1], -flow[0], flow[3], -flow[2]])
    return Sample(frames, sample.t, flow)


def augment(sample: Sample, options, rng: np.random.Generator) -> Sample:
    """Apply the augmentations switched on in ``options`` (an ``AugmentSection``).

    Random draws are made in a fixed order whatever is switched on, so a sample's
    augmentation depends only on ``rng``'s seed.
    """
    draws = rng.random(5)
    order = rng.permutation(3)
    k = int(rng.integers(0, 4))
    sample = random_crop(sample, options.crop, rng)
    if options.hflip and draws[0] < 0.5:
        sample = hflip(sample)
    if options.vflip and draws[1] < 0.5:
        sample = vflip(sample)
    if options.reverse and draws[2] < 0.5:
        sample = reverse(sample)
    if options.channels and draws[3] < 0.5:
        sample = permute_channels(sample, order)
    square = sample.frames[0].shape[0] == sample.frames[0].shape[1]
    if options.rot90 and square and draws[4] < 0.5:  # square only: batch shapes stay equal
        sample = rot90(sample, k)
    return sample
