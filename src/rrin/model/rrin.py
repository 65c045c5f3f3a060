"""RRIN: Video Frame Interpolation via Residue Refinement (Li, Yuan, Wang, ICASSP 2020).

Four U-Nets:

1. ``flow_unet`` on cat(I0, I1) → bidirectional flows ``flow_01`` (F0→1) and ``flow_10``.
2. Intermediate flows by the quadratic approximation, for any ``t`` in (0, 1)::

       flow_t0 = -(1 - t) t flow_01 + t² flow_10
       flow_t1 = (1 - t)² flow_01 - t (1 - t) flow_10

3. ``flow_residue_unet`` on cat(flow_t0, flow_t1, I0, I1) → a residue added to both.
4. Backward warping of I0 by ``flow_t0`` and of I1 by ``flow_t1``.
5. ``mask_unet`` on cat(flows, I0, I1, warped frames) → sigmoid weight maps ``mask``;
   the blend is ``((1-t) m0 w0 + t m1 w1) / ((1-t) m0 + t m1)``.
6. ``image_residue_unet`` on cat(I0, I1, blend) → a residue added to the blend, clamped.

With ``config.flow == "dis"`` step 1 is OpenCV's DIS optical flow (:mod:`.dis`, no
parameters); with ``config.refine`` false steps 3, 5 and 6 are skipped (no residues, equal
weight maps): the paper's fixed synthesis alone. With ``config.refine_max_side`` set, the
U-Nets of steps 3, 5 and 6 see large pairs halved and their outputs are upsampled, while the
warps and the blend stay at full size (:meth:`RRIN.synthesize`).

The model only predicts: it returns an :class:`RRINOutput` and computes no loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
import torch.nn.functional as F
from torch import nn

from .config import RRINConfig, refine_levels
from .dis import dis_flows_tensor
from .unet import UNet
from .warp import backward_warp

__all__ = ["RRIN", "RRINOutput", "Flows", "TimeLike", "pad_always"]

#: A time step: a float for the whole batch, or a tensor of shape (B,) with one per sample.
TimeLike = Union[float, torch.Tensor]

_EPS = 1e-8


@dataclass
class Flows:
    """Bidirectional flows between the two inputs, (B, 2, H, W) float, in pixels.

    ``flow_01[:, 0]`` is the horizontal displacement from frame 0 to frame 1, ``[:, 1]``
    the vertical one. They do not depend on ``t``: compute them once per pair.
    """

    flow_01: torch.Tensor
    flow_10: torch.Tensor


@dataclass
class RRINOutput:
    """Everything the network computed for one time step; all (B, C, H, W) float tensors.

    Attributes:
        img_t: the interpolated frame, (B, 3, H, W) in [0, 1].
        flow_01, flow_10: bidirectional flows (B, 2, H, W), pixels.
        flow_t0, flow_t1: refined flows from time t to frames 0 and 1 (B, 2, H, W).
        img0_warped, img1_warped: the inputs warped to time t (B, 3, H, W).
        mask: sigmoid weight maps (B, 2, H, W) in (0, 1), before the (1-t, t) weighting.
        blend: the normalised weighted blend of the warped frames (B, 3, H, W).
        residue: the image-residue U-Net's output added to ``blend`` (B, 3, H, W).
    """

    img_t: torch.Tensor
    flow_01: torch.Tensor
    flow_10: torch.Tensor
    flow_t0: torch.Tensor
    flow_t1: torch.Tensor
    img0_warped: torch.Tensor
    img1_warped: torch.Tensor
    mask: torch.Tensor
    blend: torch.Tensor
    residue: torch.Tensor


def _time_tensor(t: TimeLike, reference: torch.Tensor) -> torch.Tensor:
    """``t`` as a (B, 1, 1, 1) tensor matching ``reference``'s batch, device and dtype."""
    batch = reference.shape[0]
    t = torch.as_tensor(t, dtype=reference.dtype, device=reference.device)
    if t.dim() == 0:
        t = t.expand(batch)
    return t.reshape(-1, 1, 1, 1).expand(batch, 1, 1, 1)


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    height, width = x.shape[-2:]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")


def pad_always(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Replicate-pad height and width (bottom, right) to a multiple, by zero too, so that a
    traced graph has no size-dependent branch (the exported graphs' padding)."""
    height, width = x.shape[-2], x.shape[-1]
    return F.pad(x, (0, (multiple - width % multiple) % multiple, 0, (multiple - height % multiple) % multiple),
                 mode="replicate")


def _downscale(x: torch.Tensor, scale: int, flow: bool = False) -> torch.Tensor:
    """``x`` average-pooled ``scale``× (a flow's vectors shrink with it); itself at scale 1."""
    if scale == 1:
        return x
    return F.avg_pool2d(x, scale) / scale if flow else F.avg_pool2d(x, scale)


class RRIN(nn.Module):
    """The RRIN network. Device-agnostic: move it with ``.to(device)`` like any module.

    Inputs are (B, 3, H, W) float tensors in [0, 1] (RGB). H and W may be anything: the
    frames are padded (replicate) to a multiple of ``config.size_multiple`` and every
    output is cropped back to (H, W).
    """

    def __init__(self, config: RRINConfig | None = None) -> None:
        super().__init__()
        self.config = config or RRINConfig()
        width, slope = self.config.base_width, self.config.negative_slope
        if self.config.flow == "unet":
            self.flow_unet = UNet(6, 4, self.config.flow_depth, width, slope)
        if self.config.refine:
            self.flow_residue_unet = UNet(10, 4, self.config.depth, width, slope)
            self.mask_unet = UNet(16, 2, self.config.depth, width, slope)
            self.image_residue_unet = UNet(9, 3, self.config.depth, width, slope)

    @property
    def unets(self) -> list[UNet]:
        """The network's U-Nets (four, fewer with DIS flows or without refinement)."""
        names = ("flow_unet", "flow_residue_unet", "mask_unet", "image_residue_unet")
        return [getattr(self, name) for name in names if hasattr(self, name)]

    def zero_init_residues(self) -> None:
        """Zero the last layers of all U-Nets.

        An untrained network then predicts zero flow (DIS flows with ``flow = "dis"``),
        no flow residue, equal weight maps (sigmoid(0) = 0.5) and no image residue:
        the t-weighted blend ``(1-t) I0 + t I1``, or with DIS flows the paper's fixed
        synthesis; training starts there and only improves on it.
        """
        for unet in self.unets:
            nn.init.zeros_(unet.last.weight)
            nn.init.zeros_(unet.last.bias)

    def kaiming_init(self) -> None:
        """Re-initialise every convolution Kaiming-normal for LeakyReLU, biases zero.

        PyTorch's default initialisation shrinks activations at every layer (about 8× by
        the bottom of a U-Net here), which slows the start of training from scratch; this
        keeps their scale through the depth. Call :meth:`zero_init_residues` after it.
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=self.config.negative_slope, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)

    def estimate_flows(self, img0: torch.Tensor, img1: torch.Tensor) -> Flows:
        """Bidirectional flows for padded inputs (H, W multiples of ``size_multiple``).

        With ``config.flow == "dis"`` they come from OpenCV's DIS on the CPU (8-bit grey
        frames, no gradient) and are returned on the inputs' device as float32.
        """
        if self.config.flow == "dis":
            flow_01, flow_10 = dis_flows_tensor(img0, img1, self.config.dis_preset, self.config.dis_max_side)
            return Flows(flow_01=flow_01, flow_10=flow_10)
        flows = self.flow_unet(torch.cat((img0, img1), dim=1))
        return Flows(flow_01=flows[:, 0:2], flow_10=flows[:, 2:4])

    def flows(self, img0: torch.Tensor, img1: torch.Tensor) -> Flows:
        """Bidirectional flows (B, 2, H, W) in pixels for (B, 3, H, W) inputs in [0, 1] of
        any size (padded like :meth:`forward`, cropped back to (H, W))."""
        height, width = img0.shape[-2:]
        multiple = self.config.size_multiple
        flows = self.estimate_flows(_pad_to_multiple(img0, multiple), _pad_to_multiple(img1, multiple))
        return Flows(flow_01=flows.flow_01[..., :height, :width], flow_10=flows.flow_10[..., :height, :width])

    def refine_levels(self, height: int, width: int) -> int:
        """How many times the refinement U-Nets' inputs are halved for a padded pair of
        (height, width) (:func:`rrin.model.config.refine_levels`)."""
        return refine_levels(self.config, height, width)

    def synthesize(self, img0: torch.Tensor, img1: torch.Tensor, flows: Flows, t: TimeLike,
                   levels: int | None = None) -> RRINOutput:
        """The frame at ``t`` from padded inputs and their flows (steps 2–6 above).

        ``flows`` may have been computed once for several time steps; ``img0``, ``img1``
        and the flows must share the batch size of ``t`` when it is a tensor.

        ``levels``: the refinement U-Nets run on inputs halved this many times (average
        pooling; flows scaled with the size) and their outputs (flow residue, weight-map
        logits, image residue) are upsampled bilinearly to full size, where the warps and
        the blend are computed. ``None`` is :meth:`refine_levels` of the inputs' size; 0 is
        the paper's full-resolution refinement. Each halving divides the U-Nets' work by 4.
        """
        t = _time_tensor(t, img0)
        flow_01, flow_10 = flows.flow_01, flows.flow_10
        flow_t0 = -(1 - t) * t * flow_01 + t * t * flow_10
        flow_t1 = (1 - t) * (1 - t) * flow_01 - t * (1 - t) * flow_10

        refine = self.config.refine
        if levels is None:
            levels = self.refine_levels(*img0.shape[-2:])
        scale = 2**levels
        frames = torch.cat((img0, img1), dim=1)
        small_frames = _downscale(frames, scale)
        if refine:
            small_flows = _downscale(torch.cat((flow_t0, flow_t1), dim=1), scale, flow=True)
            flow_residue = self._refine(self.flow_residue_unet, torch.cat((small_flows, small_frames), dim=1), scale)
            flow_residue = flow_residue * scale
            flow_t0 = flow_t0 + flow_residue[:, 0:2]
            flow_t1 = flow_t1 + flow_residue[:, 2:4]

        legacy, padding = self.config.legacy_warp, self.config.padding
        img0_warped = backward_warp(img0, flow_t0, legacy, padding)
        img1_warped = backward_warp(img1, flow_t1, legacy, padding)

        if refine:
            small_flows = _downscale(torch.cat((flow_t0, flow_t1), dim=1), scale, flow=True)
            small_warped = _downscale(torch.cat((img0_warped, img1_warped), dim=1), scale)
            mask_input = torch.cat((small_flows, small_frames, small_warped), dim=1)
            mask = torch.sigmoid(self._refine(self.mask_unet, mask_input, scale))
        else:
            mask = torch.full_like(flow_t0, 0.5)
        blend = blend_warped(img0_warped, img1_warped, mask, t)

        if refine:
            residue_input = torch.cat((small_frames, _downscale(blend, scale)), dim=1)
            residue = self._refine(self.image_residue_unet, residue_input, scale)
        else:
            residue = torch.zeros_like(blend)
        img_t = (blend + residue).clamp(0, 1)
        return RRINOutput(
            img_t=img_t,
            flow_01=flow_01,
            flow_10=flow_10,
            flow_t0=flow_t0,
            flow_t1=flow_t1,
            img0_warped=img0_warped,
            img1_warped=img1_warped,
            mask=mask,
            blend=blend,
            residue=residue,
        )

    def _refine(self, unet: UNet, x: torch.Tensor, scale: int) -> torch.Tensor:
        """``unet`` on ``x`` (already downscaled by ``scale``), its output at full size."""
        if scale == 1:
            return unet(x)
        height, width = x.shape[-2:]
        x = pad_always(x, self.config.size_multiple)
        y = unet(x)[..., :height, :width]
        return F.interpolate(y, scale_factor=scale, mode="bilinear", align_corners=False)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: TimeLike = 0.5, flows: Flows | None = None) -> RRINOutput:
        """Interpolate the frame at time ``t`` between ``img0`` (t=0) and ``img1`` (t=1).

        Args:
            img0, img1: (B, 3, H, W) float tensors in [0, 1], RGB, any H and W.
            t: a float in (0, 1), or a (B,) tensor with one time step per sample.
            flows: the pair's flows, (B, 2, H, W) each, when already known (training on
                stored DIS flows); ``None`` estimates them.

        Returns:
            An :class:`RRINOutput` whose tensors are all cropped to (H, W).
        """
        height, width = img0.shape[-2:]
        multiple = self.config.size_multiple
        img0_p = _pad_to_multiple(img0, multiple)
        img1_p = _pad_to_multiple(img1, multiple)
        if flows is None:
            flows = self.estimate_flows(img0_p, img1_p)
        else:
            flows = Flows(_pad_to_multiple(flows.flow_01, multiple), _pad_to_multiple(flows.flow_10, multiple))
        output = self.synthesize(img0_p, img1_p, flows, t)
        if img0_p.shape[-2:] != (height, width):
            output = crop_output(output, height, width)
        return output


def blend_warped(img0_warped: torch.Tensor, img1_warped: torch.Tensor, mask: torch.Tensor, t: TimeLike) -> torch.Tensor:
    """RRIN's normalised blend ``((1-t) m0 w0 + t m1 w1) / ((1-t) m0 + t m1)``.

    Args:
        img0_warped, img1_warped: (B, C, H, W) frames (or any channels, e.g. alpha) warped
            to time t.
        mask: (B, 2, H, W) sigmoid weight maps from the weight-map U-Net.
        t: a float, or a (B, 1, 1, 1) tensor.
    """
    weight0 = (1 - t) * mask[:, 0:1]
    weight1 = t * mask[:, 1:2]
    return (weight0 * img0_warped + weight1 * img1_warped) / (weight0 + weight1 + _EPS)


def crop_output(output: RRINOutput, height: int, width: int) -> RRINOutput:
    """Crop every tensor of ``output`` to its top-left (height, width)."""
    return RRINOutput(**{name: value[..., :height, :width] for name, value in vars(output).items()})
