"""The U-Net used four times by RRIN (the layout of the original release).

Level ``i`` of the down path has ``base_width * 2**i`` channels: two 3×3 convolutions, each
followed by LeakyReLU, then a 2×2 average pool (except at the bottom level). At the bottom a
3×3 convolution + LeakyReLU (``midconv``). Each up level: bilinear ×2 upsampling
(``align_corners=False``) and a 3×3 convolution, concatenated with the skip connection,
then the level's two convolutions. A final 3×3 convolution (``last``) gives the output.

Parameter names (``down_path.N.block.{0,2}``, ``midconv``, ``up_path.N.up.1``,
``up_path.N.conv_block.block.{0,2}``, ``last``) match the original checkpoints.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["UNet"]


class ConvBlock(nn.Module):
    """Two 3×3 convolutions, each followed by LeakyReLU."""

    def __init__(self, in_channels: int, out_channels: int, negative_slope: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            nn.LeakyReLU(negative_slope),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UpBlock(nn.Module):
    """Bilinear ×2 upsampling + 3×3 conv, concatenation with the skip, then a ConvBlock."""

    def __init__(self, in_channels: int, out_channels: int, negative_slope: float) -> None:
        super().__init__()
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
        )
        self.conv_block = ConvBlock(in_channels, out_channels, negative_slope)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv_block(torch.cat([self.up(x), skip], dim=1))


class UNet(nn.Module):
    """A U-Net of ``depth`` levels mapping ``in_channels`` to ``out_channels`` at full size.

    Input height and width must be multiples of ``2 ** (depth - 1)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int,
        base_width: int = 32,
        negative_slope: float = 0.1,
    ) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        widths = [base_width * 2**level for level in range(depth)]
        self.down_path = nn.ModuleList()
        previous = in_channels
        for width in widths:
            self.down_path.append(ConvBlock(previous, width, negative_slope))
            previous = width
        self.midconv = nn.Conv2d(previous, previous, 3, padding=1)
        self.up_path = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.up_path.append(UpBlock(previous, width, negative_slope))
            previous = width
        self.last = nn.Conv2d(previous, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, down in enumerate(self.down_path):
            x = down(x)
            if level < len(self.down_path) - 1:
                skips.append(x)
                x = F.avg_pool2d(x, 2)
        x = F.leaky_relu(self.midconv(x), self.negative_slope)
        for up, skip in zip(self.up_path, reversed(skips)):
            x = up(x, skip)
        return self.last(x)
