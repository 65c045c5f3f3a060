"""Training losses, each a separate function or module; the model computes none.

Images are (B, 3, H, W) float in [0, 1]; every loss returns a scalar tensor (mean over the
batch). :class:`TrainingLoss` weighs the terms named in the config's ``[loss]`` section.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import CheckpointError, ConfigError

__all__ = ["charbonnier", "l1", "census", "laplacian_pyramid", "flow_supervision", "PerceptualLoss", "TrainingLoss"]


def charbonnier(prediction: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """mean(sqrt((p − y)² + ε²)), the paper's robust L1."""
    return torch.sqrt((prediction - target).pow(2) + eps * eps).mean()


def l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (prediction - target).abs().mean()


def _census_transform(gray: torch.Tensor, patch: int) -> torch.Tensor:
    kernel = torch.eye(patch * patch, dtype=gray.dtype, device=gray.device).reshape(patch * patch, 1, patch, patch)
    neighbours = F.conv2d(gray, kernel, padding=patch // 2)
    diff = neighbours - gray
    return diff / torch.sqrt(0.81 + diff * diff)


def census(prediction: torch.Tensor, target: torch.Tensor, patch: int = 7) -> torch.Tensor:
    """Soft ternary census distance over ``patch``×``patch`` neighbourhoods (grey, 0–255
    scale), robust to brightness changes; the border half-patch is excluded.
    """
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=prediction.dtype, device=prediction.device).view(1, 3, 1, 1)
    t_pred = _census_transform((prediction * weights).sum(1, keepdim=True) * 255, patch)
    t_target = _census_transform((target * weights).sum(1, keepdim=True) * 255, patch)
    d = (t_pred - t_target).pow(2)
    distance = (d / (0.1 + d)).mean(1, keepdim=True)
    r = patch // 2
    return distance[..., r:-r, r:-r].mean()


def _gauss_down(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=x.dtype, device=x.device) / 16
    kernel = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=x.shape[1])[..., ::2, ::2]


def laplacian_pyramid(prediction: torch.Tensor, target: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """Sum over pyramid levels i of 2^i · L1 between Laplacian bands (coarse residual last)."""
    total = prediction.new_zeros(())
    p, y = prediction, target
    for level in range(levels):
        if min(p.shape[-2:]) < 6 or level == levels - 1:
            total = total + (2**level) * l1(p, y)
            break
        p_down, y_down = _gauss_down(p), _gauss_down(y)
        size = p.shape[-2:]
        p_band = p - F.interpolate(p_down, size=size, mode="bilinear", align_corners=False)
        y_band = y - F.interpolate(y_down, size=size, mode="bilinear", align_corners=False)
        total = total + (2**level) * l1(p_band, y_band)
        p, y = p_down, y_down
    return total


def flow_supervision(flow_01: torch.Tensor, flow_10: torch.Tensor, target: torch.Tensor, eps: float = 0.01) -> torch.Tensor:
    """Robust L1 (Charbonnier) between predicted flows and pseudo ground truth, in pixels.

    ``target``: (B, 4, H, W) = flow_01 (u, v), flow_10 (u, v), same convention as the model:
    ``flow_01[:, 0]`` is the horizontal displacement from frame 0 to frame 1.
    """
    predicted = torch.cat((flow_01, flow_10), dim=1).float()
    return torch.sqrt((predicted - target).pow(2) + eps * eps).mean()


class _VGGFeatures(nn.Module):
    """VGG-16 convolution layers up to relu3_3, named like the common ``features.N`` layout."""

    _LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256)

    def __init__(self) -> None:
        super().__init__()
        layers, channels = [], 3
        for item in self._LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                channels = item
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class PerceptualLoss(nn.Module):
    """L1 between VGG-16 relu3_3 features; the user supplies the backbone weights.

    ``weights_path``: a safetensors or ``torch.save`` state dict with keys ``features.N.*``
    (as in the common VGG-16 releases); extra keys (classifier) are ignored. Nothing is
    downloaded. Inputs are normalised with the ImageNet mean and std.
    """

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        path = Path(weights_path)
        if not path.is_file():
            raise ConfigError(f"loss.perceptual_weights: {path} does not exist")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            from .model.checkpoint import read_torch_file

            state = read_torch_file(path, "VGG-16 weights file")
        self.net = _VGGFeatures()
        wanted = self.net.state_dict()
        picked = {k: v for k, v in state.items() if k in wanted}
        missing = sorted(set(wanted) - set(picked))
        if missing or any(picked[k].shape != wanted[k].shape for k in picked):
            raise CheckpointError(f"{path} is not VGG-16 features weights (missing or mis-shaped: {', '.join(missing[:3]) or 'shapes'})")
        self.net.load_state_dict(picked)
        self.net.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        p = self.net((prediction - self.mean) / self.std)
        with torch.no_grad():
            y = self.net((target - self.mean) / self.std)
        return l1(p, y)


class TrainingLoss(nn.Module):
    """The weighted sum of the terms enabled in a ``LossSection``.

    ``forward(output, batch, step)`` → (total, {term: value}); ``output`` is an
    ``RRINOutput``, ``batch`` holds ``img_t`` and, for flow supervision, ``flow``.
    """

    def __init__(self, options) -> None:
        super().__init__()
        self.options = options
        self.perceptual = PerceptualLoss(options.perceptual_weights) if options.perceptual > 0 else None

    @property
    def wants_flow(self) -> bool:
        return self.options.flow > 0

    def flow_weight(self, step: int) -> float:
        o = self.options
        if o.flow <= 0:
            return 0.0
        if o.flow_decay_steps <= 0:
            return o.flow
        return o.flow * max(0.0, 1.0 - step / o.flow_decay_steps)

    def flow_only(self, flows, batch: dict[str, torch.Tensor], step: int = 0):
        """The flow pre-training stage's loss: only the pseudo-flow term, on ``flows``
        (anything with ``flow_01`` and ``flow_10``) → (total, {"flow": value})."""
        if "flow" not in batch:
            raise ConfigError("the flow stage needs a pseudo-flow target ('flow') in every batch")
        total = self.flow_weight(step) * flow_supervision(flows.flow_01, flows.flow_10, batch["flow"].float())
        return total, {"flow": float(total.detach())}

    def forward(self, output, batch: dict[str, torch.Tensor], step: int = 0):
        o = self.options
        prediction, target = output.img_t.float(), batch["img_t"].float()
        terms: dict[str, torch.Tensor] = {}
        if o.charbonnier > 0:
            terms["charbonnier"] = o.charbonnier * charbonnier(prediction, target, o.charbonnier_eps)
        if o.l1 > 0:
            terms["l1"] = o.l1 * l1(prediction, target)
        if o.census > 0:
            terms["census"] = o.census * census(prediction, target)
        if o.laplacian > 0:
            terms["laplacian"] = o.laplacian * laplacian_pyramid(prediction, target)
        if self.perceptual is not None:
            terms["perceptual"] = o.perceptual * self.perceptual(prediction, target)
        weight = self.flow_weight(step)
        if weight > 0 and "flow" in batch:
            terms["flow"] = weight * flow_supervision(output.flow_01, output.flow_10, batch["flow"].float())
        if not terms:
            raise ConfigError("every loss weight is 0: enable at least one term in [loss]")
        total = sum(terms.values())
        return total, {name: float(value.detach()) for name, value in terms.items()}
