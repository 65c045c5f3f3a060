"""Image quality metrics as the frame-interpolation papers compute them.

Conventions (shared by ``rrin evaluate``, the trainer's validation and the benchmarks):

* Predictions are rounded to 8-bit before scoring (``quantize``), as a saved frame would be.
* PSNR is computed on RGB in [0, 1] over all pixels and channels, per image, then averaged.
* SSIM uses the 11×11 Gaussian window with σ = 1.5 and the constants K1 = 0.01, K2 = 0.03
  of the MATLAB reference (Wang et al. 2004), on each RGB channel with 'valid' filtering
  (no padding), averaged over channels, per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["quantize", "psnr", "ssim"]


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round [0, 1] images to the nearest 8-bit level (kept as float in [0, 1])."""
    return torch.round(images.clamp(0, 1) * 255) / 255


def _batch(images: torch.Tensor) -> torch.Tensor:
    images = images.float()
    return images[None] if images.dim() == 3 else images


def psnr(prediction: torch.Tensor, target: torch.Tensor, max_value: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image.

    Args:
        prediction, target: (B, C, H, W) or (C, H, W) float in [0, max_value].

    Returns:
        (B,) float tensor; identical images give ``inf``.
    """
    prediction, target = _batch(prediction), _batch(target)
    mse = (prediction - target).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(max_value**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    kernel = torch.exp(-(coords**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    return (kernel[:, None] * kernel[None, :]).float()


def ssim(prediction: torch.Tensor, target: torch.Tensor, max_value: float = 1.0) -> torch.Tensor:
    """Structural similarity (MATLAB reference conventions, see module doc), one per image.

    Args:
        prediction, target: (B, C, H, W) or (C, H, W) float in [0, max_value], H, W ≥ 11.

    Returns:
        (B,) float tensor in [-1, 1]; identical images give 1.
    """
    prediction, target = _batch(prediction), _batch(target)
    channels = prediction.shape[1]
    window = _gaussian_window(device=prediction.device).expand(channels, 1, 11, 11)
    c1 = (0.01 * max_value) ** 2
    c2 = (0.03 * max_value) ** 2

    def filt(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=channels)

    mu_x, mu_y = filt(prediction), filt(target)
    sigma_xx = filt(prediction * prediction) - mu_x**2
    sigma_yy = filt(target * target) - mu_y**2
    sigma_xy = filt(prediction * target) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (sigma_xx + sigma_yy + c2)
    return (numerator / denominator).flatten(1).mean(dim=1)


def mean_finite(values: list[float]) -> float:
    """The mean of ``values``, with ``inf`` (perfect PSNR) capped at 100 dB so averages stay finite."""
    capped = [min(v, 100.0) for v in values]
    return sum(capped) / len(capped) if capped else math.nan
