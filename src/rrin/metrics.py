"""Image quality metrics as the frame-interpolation papers compute them.

Conventions (shared by ``rrin evaluate``, the trainer's validation and the benchmarks):

* Predictions are rounded to 8-bit before scoring (``quantize``), as a saved frame would be.
* PSNR is computed on RGB in [0, 1] over all pixels and channels, per image, then averaged.
* SSIM uses the 11×11 Gaussian window with σ = 1.5 and the constants K1 = 0.01, K2 = 0.03
  of the MATLAB reference (Wang et al. 2004), on each RGB channel with 'valid' filtering
  (no padding), averaged over channels, per image.
* Middlebury's interpolation error (IE, Baker et al., "A Database and Evaluation
  Methodology for Optical Flow", IJCV 2011) is the root-mean-square difference of the
  grey levels (0–255 scale): the RGB images are converted to grey with the ITU-R BT.601
  luma weights (0.299, 0.587, 0.114), as the Middlebury evaluation does for colour frames.
* :func:`image_scores` applies all of these to a pair of (H, W, 3) numpy frames.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["quantize", "psnr", "ssim", "interpolation_error", "to_tensor", "image_scores", "mean_finite", "warp_psnr"]


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


_LUMA = (0.299, 0.587, 0.114)


def interpolation_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Middlebury interpolation error: RMS grey-level difference on the 0–255 scale, per image.

    Args:
        prediction, target: (B, 3, H, W) or (3, H, W) float RGB in [0, 1].

    Returns:
        (B,) float tensor ≥ 0; identical images give 0.
    """
    prediction, target = _batch(prediction), _batch(target)
    weights = torch.tensor(_LUMA, dtype=torch.float32, device=prediction.device).view(1, 3, 1, 1)
    grey_difference = ((prediction - target) * weights).sum(dim=1) * 255
    return grey_difference.pow(2).flatten(1).mean(dim=1).sqrt()


def to_tensor(image) -> torch.Tensor:
    """An (H, W, 3) numpy frame (uint8, uint16 or float in [0, 1]) as a (1, 3, H, W) float32
    tensor in [0, 1]: the one numpy → tensor conversion of rrin (inference, training data,
    metrics)."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255
    elif array.dtype == np.uint16:
        values = array.astype(np.float32) / 65535
    else:
        values = array.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(values)).permute(2, 0, 1)[None]


def image_scores(prediction, target) -> dict[str, float]:
    """``psnr`` (dB), ``ssim`` and ``ie`` of one predicted frame against the real one.

    Args:
        prediction, target: (H, W, 3) numpy RGB frames (uint8, or float in [0, 1]) of the
            same size; the prediction is rounded to 8-bit first (:func:`quantize`).
    """
    pred, truth = quantize(to_tensor(prediction)), to_tensor(target)
    return {
        "psnr": float(psnr(pred, truth)[0]),
        "ssim": float(ssim(pred, truth)[0]),
        "ie": float(interpolation_error(pred, truth)[0]),
    }


def warp_psnr(img0: torch.Tensor, img1: torch.Tensor, flow_01: torch.Tensor) -> torch.Tensor:
    """How well ``flow_01`` explains the motion between two frames: PSNR (dB, per sample) of
    ``img1`` warped back onto ``img0`` by ``flow_01``.

    Args:
        img0, img1: (B, 3, H, W) float in [0, 1].
        flow_01: (B, 2, H, W) float, pixels (``img0(x) ≈ img1(x + flow_01(x))``).

    Positions outside the frame read the border pixel: reading zeros there (as the network's
    original warp does) scores every flow that points out of the frame as a black error, and
    once ranked a good estimator below no flow at all.
    """
    from .model.warp import backward_warp

    return psnr(backward_warp(img1, flow_01.to(img1.dtype), padding="border"), img0)
