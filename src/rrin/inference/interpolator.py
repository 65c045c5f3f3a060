"""The high-level inference API: :class:`Interpolator`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, Sequence, Union

import numpy as np
import torch

from ..errors import InputError
from ..io.images import Image
from ..metrics import to_tensor
from ..model.registry import load_model
from ..model.rrin import RRIN, Flows, RRINOutput, _pad_to_multiple, blend_warped, crop_output
from ..model.warp import backward_warp
from .backends import Backend, auto_precision, select_backend
from .device import resolve_device, resolve_precision

__all__ = ["Interpolator", "PreparedFrames", "check_time"]

ArrayOrTensor = Union[np.ndarray, torch.Tensor]


@dataclass(frozen=True)
class PreparedFrames:
    """Frames made ready for the backend once, to be used in several pairs.

    Attributes:
        tensor: (B, 3, H', W') float32 in [0, 1] on the interpolator's device, padded
            (edge replication) to multiples of the model's ``size_multiple``, in the
            backend's memory layout (channels_last for the eager backend).
        height, width: the size before padding; outputs are cropped back to it.
    """

    tensor: torch.Tensor
    height: int
    width: int


def check_time(t: float) -> float:
    """``t`` as a float strictly inside (0, 1), or :class:`InputError`."""
    t = float(t)
    if not 0.0 < t < 1.0:
        raise InputError(f"time step t must be strictly between 0 and 1, got {t:g}")
    return t


class Interpolator:
    """Interpolates frames between two images with an RRIN model.

    Args:
        model: a shipped model's name, a path to a weights file, an :class:`RRIN`
            instance, or ``None`` for the default shipped model of the device.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``…
        precision: ``"auto"`` (fp16 on CUDA; on CPU bf16 through OpenVINO where the CPU has
            native BF16, else fp32: :func:`~rrin.inference.backends.auto_precision`),
            ``"fp32"``, ``"fp16"``, ``"bf16"``.
        backend: ``"auto"`` (the fastest installed for the device, see
            :mod:`rrin.inference.backends`), a backend name (``eager``, ``eager-nchw``,
            ``compile``, ``onnxruntime``, ``openvino``) or a built
            :class:`~rrin.inference.backends.Backend` (whose model is then used and
            ``model`` ignored).
        max_batch: at most this many samples (pairs × time steps) per synthesis call
            (default: 1 on CPU, 8 on GPU); the flows are computed once per pair regardless.
        **backend_options: passed to the backend (``cache_root``, ``threads``, ``mode``…).

    Example::

        interp = Interpolator()                      # default shipped weights
        middle = interp.interpolate(frame0, frame1)  # (H, W, 3) uint8 → (H, W, 3) uint8

    For a video, prepare each frame once and use it in both of its pairs::

        prev = interp.prepare(frames[0])
        for frame in frames[1:]:
            cur = interp.prepare(frame)
            outputs = interp.run(prev, cur, [0.5])
            prev = cur
    """

    def __init__(
        self,
        model: str | os.PathLike | RRIN | None = None,
        device: str | torch.device = "auto",
        precision: str = "auto",
        backend: str | Backend = "auto",
        max_batch: int | None = None,
        **backend_options: Any,
    ) -> None:
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device)
        if isinstance(backend, Backend):
            self.backend = backend
            self.model = backend.model
            self.dtype = backend.dtype
            return
        if isinstance(model, RRIN):
            model = model.to(self.device).eval()
        else:
            model = load_model(model, self.device)
        if precision == "auto":
            self.dtype = auto_precision(backend, model, self.device)
        self.backend = select_backend(backend, model, self.device, self.dtype, max_batch=max_batch, **backend_options)
        self.model = self.backend.model

    def prepare(self, frames: torch.Tensor | PreparedFrames) -> PreparedFrames:
        """Pad, move and lay out frames once, for use in several calls to :meth:`run`.

        Args:
            frames: (B, 3, H, W) or (3, H, W) float tensor in [0, 1], RGB, any size (an
                already prepared value is returned as is).
        """
        if isinstance(frames, PreparedFrames):
            return frames
        if frames.dim() == 3:
            frames = frames[None]
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise InputError(f"expected (B, 3, H, W) frames, got shape {tuple(frames.shape)}")
        height, width = frames.shape[-2:]
        padded = _pad_to_multiple(frames.to(self.device, torch.float32), self.model.config.size_multiple)
        return PreparedFrames(self.backend.prepare(padded), int(height), int(width))

    def run(
        self,
        img0: torch.Tensor | PreparedFrames,
        img1: torch.Tensor | PreparedFrames,
        times: Sequence[float],
        flows: Flows | None = None,
    ) -> list[RRINOutput]:
        """The full network outputs for several time steps of one batch of pairs.

        The flows F0→1 and F1→0 do not depend on t and are computed once for all ``times``;
        the time steps go through the synthesis U-Nets in batches of ``max_batch``.

        Args:
            img0, img1: (B, 3, H, W) float tensors in [0, 1], RGB, any size, or frames
                from :meth:`prepare` (not padded, converted or moved again).
            times: time steps in (0, 1); 0 is ``img0``, 1 is ``img1``.
            flows: the pair's flows, (B, 2, H, W) float in pixels, when already known
                (computed on the whole frame for a tile, at another scale, or ahead in
                another thread); ``None`` lets the model estimate them.

        Returns:
            One :class:`RRINOutput` per time step, tensors (B, C, H, W) float32 on the
            interpolator's device.
        """
        return list(self.iter_run(img0, img1, times, flows))

    def iter_run(
        self,
        img0: torch.Tensor | PreparedFrames,
        img1: torch.Tensor | PreparedFrames,
        times: Sequence[float],
        flows: Flows | None = None,
    ) -> Iterator[RRINOutput]:
        """The outputs of :meth:`run`, computed as they are taken: the flows once at the
        first step, then one batch of ``max_batch`` time steps whenever the outputs
        computed so far have been taken, so a pair with many time steps never holds more
        than a batch of them in memory. Arguments are checked at the call."""
        times = [check_time(t) for t in times]
        with torch.inference_mode():
            img0, img1 = self.prepare(img0), self.prepare(img1)
        if img0.tensor.shape != img1.tensor.shape or (img0.height, img0.width) != (img1.height, img1.width):
            raise InputError(f"the two inputs differ in size: {_describe(img0.tensor)} vs {_describe(img1.tensor)}")
        if flows is not None:
            multiple = self.model.config.size_multiple
            flows = Flows(*(_pad_to_multiple(flow.to(self.device, torch.float32), multiple)
                            for flow in (flows.flow_01, flows.flow_10)))
        return self._outputs(img0, img1, times, flows)

    def _outputs(self, img0: PreparedFrames, img1: PreparedFrames, times: list[float],
                 flows: Flows | None) -> Iterator[RRINOutput]:
        crop = img0.tensor.shape[-2:] != (img0.height, img0.width)
        for output in self.backend.iter_run(img0.tensor, img1.tensor, times, flows):
            yield crop_output(output, img0.height, img0.width) if crop else output

    def interpolate(self, img0: ArrayOrTensor, img1: ArrayOrTensor, t: float = 0.5) -> ArrayOrTensor:
        """The frame at time ``t`` between two images, in the type they came in.

        Accepts numpy arrays (H, W, 3) RGB of uint8, uint16 or float in [0, 1] (returned
        in the same dtype), or tensors (3, H, W) / (B, 3, H, W) float in [0, 1].
        """
        return self.interpolate_many(img0, img1, [t])[0]

    def interpolate_many(self, img0: ArrayOrTensor, img1: ArrayOrTensor, times: Sequence[float]) -> list[ArrayOrTensor]:
        """Frames at several time steps (flows computed once), as :meth:`interpolate`."""
        tensor0, restore = _to_batch(img0)
        tensor1, _ = _to_batch(img1)
        if tensor0.shape != tensor1.shape:
            raise InputError(f"the two images differ in size: {_describe(img0)} vs {_describe(img1)}")
        return [restore(output.img_t) for output in self.run(tensor0, tensor1, times)]

    def interpolate_images(self, img0: Image, img1: Image, times: Sequence[float]) -> list[tuple[Image, RRINOutput]]:
        """Interpolate decoded :class:`Image` s; alpha follows the motion of the colours.

        The alpha channel (if either image has one) is warped by the same flows and blended
        with the same weight maps as the colours, so transparency moves with the content.
        """
        if img0.size != img1.size:
            raise InputError(f"the two images differ in size: {img0.size[1]}x{img0.size[0]} vs {img1.size[1]}x{img1.size[0]}")
        rgb0 = _from_hwc(img0.rgb)
        rgb1 = _from_hwc(img1.rgb)
        results = []
        for t, output in zip(times, self.run(rgb0, rgb1, times)):
            alpha = None
            if img0.alpha is not None or img1.alpha is not None:
                alpha = _interpolate_alpha(img0, img1, output, t, self.model.config)
            frame = Image(
                rgb=output.img_t[0].permute(1, 2, 0).cpu().numpy(),
                alpha=alpha,
                bit_depth=max(img0.bit_depth, img1.bit_depth),
                grayscale=img0.grayscale and img1.grayscale,
            )
            results.append((frame, output))
        return results


def _interpolate_alpha(img0: Image, img1: Image, output: RRINOutput, t: float, config) -> np.ndarray:
    device = output.img_t.device
    ones = np.ones(img0.size, dtype=np.float32)
    alpha0 = torch.from_numpy(img0.alpha if img0.alpha is not None else ones)[None, None].to(device)
    alpha1 = torch.from_numpy(img1.alpha if img1.alpha is not None else ones)[None, None].to(device)
    warped0 = backward_warp(alpha0, output.flow_t0, config.legacy_warp, config.padding)
    warped1 = backward_warp(alpha1, output.flow_t1, config.legacy_warp, config.padding)
    alpha_t = blend_warped(warped0, warped1, output.mask, t)
    return alpha_t[0, 0].clamp(0, 1).cpu().numpy()


def _describe(image: ArrayOrTensor) -> str:
    return "x".join(str(s) for s in image.shape)


def _from_hwc(array: np.ndarray) -> torch.Tensor:
    return to_tensor(array)  # a float (H, W, 3) array in [0, 1]: (1, 3, H, W) float32


def _to_batch(image: ArrayOrTensor):
    """A (B, 3, H, W) float tensor in [0, 1] and a function turning results back."""
    if isinstance(image, torch.Tensor):
        if image.dim() == 3:
            return image[None].float(), lambda out: out[0]
        if image.dim() == 4:
            return image.float(), lambda out: out
        raise InputError(f"expected a (3, H, W) or (B, 3, H, W) tensor, got shape {tuple(image.shape)}")
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise InputError("expected an (H, W, 3) RGB numpy array or a tensor")
    dtype = image.dtype
    if dtype == np.uint8:
        scale = 255.0
    elif dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(dtype, np.floating):
        scale = 1.0
    else:
        raise InputError(f"unsupported image dtype {dtype}")

    def restore(out: torch.Tensor) -> np.ndarray:
        array = out[0].permute(1, 2, 0).cpu().numpy()
        if scale == 1.0:
            return array.astype(dtype)
        return np.clip(np.rint(array * scale), 0, scale).astype(dtype)

    return to_tensor(image), restore
