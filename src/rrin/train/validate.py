"""Validation during training: PSNR/SSIM (``rrin.metrics``) of the raw and EMA weights.

Kept minimal on purpose: the dataset-level evaluation command lives in ``rrin.evaluate``;
this only averages ``rrin.metrics.psnr``/``ssim`` over the held-out samples, one at a time
(samples may differ in size), and saves image grids of the first few.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from ..inference.device import autocast
from ..metrics import mean_finite, psnr, quantize, ssim
from .logging import sample_grid, write_png

__all__ = ["validate"]


@torch.no_grad()
def validate(model, ema, dataset, device, dtype, samples_dir: Path | None, step: int, images: int = 4, logger=None) -> dict:
    """Scores over ``dataset``: ``psnr``/``ssim`` (raw weights), ``psnr_ema``/``ssim_ema``
    and ``blend_psnr`` (the t-weighted average of the two input frames, the baseline).
    """
    averaged = copy.deepcopy(model)
    averaged.load_state_dict({k: v.to(device) for k, v in ema.state.items()})
    was_training = model.training
    model.eval()
    averaged.eval()
    scores: dict[str, list[float]] = {k: [] for k in ("psnr", "ssim", "psnr_ema", "ssim_ema", "blend_psnr")}
    rows = []
    for index in range(len(dataset)):
        sample = {k: v[None].to(device) for k, v in dataset[index].items()}
        truth, t = sample["img_t"], sample["t"]
        for name, net in (("", model), ("_ema", averaged)):
            with autocast(device, dtype):
                output = net(sample["img0"], sample["img1"], t)
            prediction = quantize(output.img_t.float())
            scores[f"psnr{name}"].append(float(psnr(prediction, truth)[0]))
            scores[f"ssim{name}"].append(float(ssim(prediction, truth)[0]))
            if name == "_ema" and index < images:
                rows.append(sample_grid(sample["img0"][0], prediction[0], truth[0], output.flow_01[0]))
        w = t.view(-1, 1, 1, 1)
        blend = quantize((1 - w) * sample["img0"] + w * sample["img1"])
        scores["blend_psnr"].append(float(psnr(blend, truth)[0]))
    model.train(was_training)
    if rows and samples_dir is not None:
        width = max(r.shape[1] for r in rows)
        grid = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
        samples_dir.mkdir(parents=True, exist_ok=True)
        write_png(samples_dir / f"step_{step:07d}.png", grid)
        if logger is not None:
            logger.image("val/samples", grid, step)
    return {"step": step, **{k: mean_finite(v) for k, v in scores.items()}}
