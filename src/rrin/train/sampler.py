"""The run's sample stream: a fixed order of dataset indices that a resume can re-enter.

Epoch ``e`` is a permutation of the dataset drawn from ``seed + e``; epochs are chained
into one stream. The global batch of step ``s`` is stream positions ``[s·G, (s+1)·G)`` with
``G = batch_size × world_size``; rank ``r`` takes its ``batch_size`` slice. Each item is
``(index, position)``: the position seeds the sample's augmentation. The stream depends only
on (seed, dataset length, batch size, world size), so restarting at any step reproduces it.

With ``weights`` (one per dataset item, e.g. :func:`rrin.data.hardness.clip_hardness`) and
``weighted_share`` s > 0, an epoch is instead ``length`` draws with replacement from the
mixture ``(1 − s) · uniform + s · weights / sum(weights)``, still from ``seed + e``.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch.utils.data import Sampler

__all__ = ["StreamBatchSampler"]


class StreamBatchSampler(Sampler[list[tuple[int, int]]]):
    def __init__(self, length: int, batch_size: int, *, seed: int = 0, rank: int = 0, world_size: int = 1,
                 start_step: int = 0, end_step: int = 1, weights: Sequence[float] | None = None,
                 weighted_share: float = 0.0) -> None:
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self._probs = None
        if weights is not None and weighted_share > 0:
            weights = torch.as_tensor(weights, dtype=torch.float64).clamp(min=0)
            if len(weights) != length:
                raise ValueError(f"{len(weights)} weights for {length} items")
            total = float(weights.sum())
            weighted = weights / total if total > 0 else torch.full((length,), 1.0 / length, dtype=torch.float64)
            self._probs = (1 - weighted_share) / length + weighted_share * weighted
        self.rank, self.world_size = rank, world_size
        self.start_step, self.end_step = start_step, end_step
        self._epoch, self._order = -1, None

    def _index(self, position: int) -> int:
        epoch, offset = divmod(position, self.length)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            if self._probs is None:
                self._order = torch.randperm(self.length, generator=generator).tolist()
            else:
                self._order = torch.multinomial(self._probs, self.length, replacement=True, generator=generator).tolist()
            self._epoch = epoch
        return self._order[offset]

    def batch(self, step: int) -> list[tuple[int, int]]:
        first = (step * self.world_size + self.rank) * self.batch_size
        return [(self._index(p), p) for p in range(first, first + self.batch_size)]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for step in range(self.start_step, self.end_step):
            yield self.batch(step)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step)
