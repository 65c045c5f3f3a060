"""Tiled inference for frames too large for memory: overlapping tiles, feathered blending.

The frame pair is cut into ``tile``×``tile`` windows that overlap by ``overlap`` pixels;
each window is interpolated on its own (any model call ``(img0, img1, times) -> [img_t]``)
and the results are blended with weights that ramp linearly from 0 to 1 across each
overlap (1 at the frame's own borders), so seams vanish. Motion larger than the overlap
near a tile edge is seen by one tile only, so use generous overlaps for fast motion.

:func:`choose_tile` picks a tile size from a rough memory estimate (:func:`bytes_per_pixel`)
against the memory available (``os.sysconf`` pages), or ``None`` when the frame fits.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator, Sequence

import torch

from ..model.rrin import Flows

__all__ = ["bytes_per_pixel", "available_memory", "choose_tile", "tile_starts", "run_tiled", "iter_tiled"]


def bytes_per_pixel(base_width: int) -> int:
    """Rough peak bytes per frame pixel of one RRIN pair on CPU in fp32: about 48 float
    feature channels per ``base_width`` unit alive at once across the four U-Nets and warps
    (an order-of-magnitude estimate, deliberately generous; not measured)."""
    return 4 * 48 * base_width


def available_memory() -> int:
    """Bytes of physical memory currently available (``os.sysconf``), or 4 GiB if unknown."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def choose_tile(height: int, width: int, base_width: int, multiple: int, overlap: int = 32,
                budget: int | None = None) -> int | None:
    """A square tile size (a multiple of ``multiple``) that fits half of ``budget`` bytes
    (default: available memory), or ``None`` when the whole frame fits."""
    budget = (available_memory() if budget is None else budget) // 2
    per_pixel = bytes_per_pixel(base_width)
    if height * width * per_pixel <= budget:
        return None
    side = int((budget / per_pixel) ** 0.5) - 2 * overlap
    return max(multiple * 4, side // multiple * multiple)


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``size`` with windows of ``tile`` overlapping by ≥ ``overlap``."""
    if tile >= size:
        return [0]
    step = max(tile - overlap, 1)
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def _ramp(length: int, start: int, size: int, tile_len: int, overlap: int, device) -> torch.Tensor:
    weight = torch.ones(length, device=device)
    ramp = torch.linspace(0, 1, overlap + 2, device=device)[1:-1] if overlap > 0 else None
    if ramp is None:
        return weight
    n = min(overlap, length)
    if start > 0:
        weight[:n] = ramp[:n]
    if start + tile_len < size:
        weight[-n:] = torch.minimum(weight[-n:], ramp[:n].flip(0))
    return weight


def run_tiled(run_model: Callable, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
              tile: int, overlap: int = 32, flows: Flows | None = None) -> list[torch.Tensor]:
    """``run_model`` on overlapping tiles of (B, 3, H, W) inputs, blended; returns one
    (B, 3, H, W) tensor per time step, as ``run_model`` would for the whole frame.

    ``flows``: the whole frame's flows ((B, 2, H, W) each), e.g. DIS's, which see motion
    across tile borders; each tile then gets its crop as ``run_model(..., times, flows)``.
    """
    return list(iter_tiled(run_model, img0, img1, times, tile, overlap, chunk=max(1, len(times)), flows=flows))


def iter_tiled(run_model: Callable, img0: torch.Tensor, img1: torch.Tensor, times: Sequence[float],
               tile: int, overlap: int = 32, chunk: int = 8, flows: Flows | None = None) -> Iterator[torch.Tensor]:
    """:func:`run_tiled`'s frames, ``chunk`` time steps at a time: every tile runs on a
    chunk of ``times``, the chunk's frames are blended and handed out, then the next chunk
    is computed. Memory holds ``chunk`` full frames whatever the number of time steps (the
    flows of each tile are estimated once per chunk unless ``flows`` are given)."""
    for start in range(0, len(times), max(1, chunk)):
        yield from _tiled(run_model, img0, img1, list(times[start:start + max(1, chunk)]), tile, overlap, flows)


def _tiled(run_model: Callable, img0: torch.Tensor, img1: torch.Tensor, times: list[float],
           tile: int, overlap: int, flows: Flows | None) -> list[torch.Tensor]:
    batch, _, height, width = img0.shape
    ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    sums = None
    total = torch.zeros(1, 1, height, width)
    for y in ys:
        for x in xs:
            th, tw = min(tile, height), min(tile, width)
            window = (..., slice(y, y + th), slice(x, x + tw))
            if flows is None:
                outputs = run_model(img0[window], img1[window], times)
            else:
                outputs = run_model(img0[window], img1[window], times, Flows(flows.flow_01[window], flows.flow_10[window]))
            if sums is None:
                sums = [torch.zeros(batch, 3, height, width) for _ in times]
            wy = _ramp(th, y, height, th, min(overlap, tile - 1), "cpu")
            wx = _ramp(tw, x, width, tw, min(overlap, tile - 1), "cpu")
            weight = (wy[:, None] * wx[None, :])[None, None]
            for acc, out in zip(sums, outputs):
                acc[..., y:y + th, x:x + tw] += out.float().cpu() * weight
            total[..., y:y + th, x:x + tw] += weight
    return [acc / total for acc in sums]
