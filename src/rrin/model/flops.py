"""Counting RRIN's multiply-accumulates analytically from its configuration.

Only the 3×3 convolutions are counted (they are over 99% of the work); pooling,
upsampling, warping and the element-wise arithmetic are left out. One MAC is two FLOPs.
"""

from __future__ import annotations

from .config import RRINConfig, refine_levels

__all__ = ["unet_macs", "rrin_macs"]

_KERNEL = 9  # 3×3


def unet_macs(in_channels: int, out_channels: int, depth: int, base_width: int, height: int, width: int) -> int:
    """MACs of one :class:`~rrin.model.unet.UNet` on a (height, width) input (padded size)."""
    widths = [base_width * 2**level for level in range(depth)]
    total = 0
    previous = in_channels
    for level, channels in enumerate(widths):  # down path: two convolutions per level
        pixels = (height >> level) * (width >> level)
        total += _KERNEL * pixels * (previous * channels + channels * channels)
        previous = channels
    bottom = (height >> (depth - 1)) * (width >> (depth - 1))
    total += _KERNEL * bottom * previous * previous  # midconv
    for level in reversed(range(depth - 1)):  # up path: up-conv, then the level's two convolutions
        channels = widths[level]
        pixels = (height >> level) * (width >> level)
        total += _KERNEL * pixels * (previous * channels + 2 * channels * channels + channels * channels)
        previous = channels
    total += _KERNEL * height * width * previous * out_channels  # last
    return total


def rrin_macs(config: RRINConfig, height: int, width: int, times: int = 1) -> int:
    """MACs to interpolate ``times`` frames of one pair at (height, width).

    The size is padded to ``config.size_multiple`` first, as the model does. The flow
    U-Net runs once per pair; the three other U-Nets once per time step, on the size halved
    as ``config.refine_max_side`` says (:meth:`RRIN.refine_levels`). DIS flows
    (``flow = "dis"``) and a model without refinement count zero.
    """
    multiple = config.size_multiple
    height = -(-height // multiple) * multiple
    width = -(-width // multiple) * multiple
    base = config.base_width
    flows = unet_macs(6, 4, config.flow_depth, base, height, width) if config.flow == "unet" else 0
    if not config.refine:
        return flows
    levels = refine_levels(config, height, width)
    if levels:  # the halved size, padded again to the U-Nets' multiple
        height = -(-(height >> levels) // multiple) * multiple
        width = -(-(width >> levels) // multiple) * multiple
    per_time = (
        unet_macs(10, 4, config.depth, base, height, width)
        + unet_macs(16, 2, config.depth, base, height, width)
        + unet_macs(9, 3, config.depth, base, height, width)
    )
    return flows + times * per_time
