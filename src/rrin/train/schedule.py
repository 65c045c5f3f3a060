"""Learning-rate schedule and the exponential moving average of the weights."""

from __future__ import annotations

import math

import torch

__all__ = ["learning_rate", "EMA"]


def learning_rate(step: int, base: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warmup over ``warmup`` steps, then cosine decay to ``base * min_ratio`` at ``total``."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


class EMA:
    """An exponential moving average of a model's floating-point state.

    The effective decay is ``min(decay, (1 + step) / (10 + step))`` so that the average
    follows the early, fast-changing weights instead of the random initialisation.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.state = {name: value.detach().clone().float() for name, value in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for name, value in model.state_dict().items():
            average = self.state[name]
            if average.is_floating_point():
                average.lerp_(value.detach().float(), 1 - decay)
            else:
                average.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: value.clone() for name, value in self.state.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            self.state[name].copy_(value)
