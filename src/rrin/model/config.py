"""The RRIN architecture's hyper-parameters as one frozen dataclass.

A config is stored in every checkpoint (safetensors metadata) and every run folder, so a
weights file always rebuilds the network it was trained with. Variants (``lite``, deeper or
wider networks) are configurations, never copies of the model code.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ConfigError

__all__ = ["RRINConfig", "max_refine_levels", "refine_levels", "PRESETS", "FLOW_SOURCES", "PADDINGS", "DIS_PRESETS"]

#: Where the bidirectional flows come from: the paper's flow U-Net, or OpenCV's DIS.
FLOW_SOURCES = ("unet", "dis")
#: What the warp reads outside the frame: zeros (the original release) or the border pixel.
PADDINGS = ("zeros", "border")
#: OpenCV's DIS presets, fastest first.
DIS_PRESETS = ("ultrafast", "fast", "medium")


@dataclass(frozen=True)
class RRINConfig:
    """Widths and depths of RRIN's four U-Nets.

    Attributes:
        base_width: channels of every U-Net's first level; each level below doubles it.
            The paper uses 32.
        flow_depth: levels of the flow U-Net (the paper: 5, i.e. 4 poolings, stride 16).
        depth: levels of the flow-residue, weight-map and image-residue U-Nets (paper: 4).
        negative_slope: slope of the LeakyReLU activations (paper: 0.1).
        legacy_warp: sample the warp grid as the original release did (grid normalised as
            ``2(x/W - 0.5)``, PyTorch 1.0 ``align_corners=True``), which is the geometry the
            authors' weights were trained with. ``False`` is the exact pixel-centre warp.
        flow: ``"unet"`` (the paper's flow U-Net estimates ``flow_01`` and ``flow_10``) or
            ``"dis"`` (OpenCV's DIS optical flow does, outside the network: no flow U-Net
            parameters; see :mod:`rrin.model.dis`).
        padding: what the warp reads where a flow points outside the frame: ``"zeros"``
            (the original release; black smears at moving borders) or ``"border"`` (the
            nearest edge pixel).
        refine: run the three refinement U-Nets (flow residue, weight maps, image
            residue). ``False`` keeps only the paper's fixed synthesis: intermediate flows,
            backward warps and the (1-t, t)-weighted blend, exactly what the network computes
            when those U-Nets' last layers are zero.
        dis_preset: DIS preset (``flow = "dis"``): ``ultrafast``, ``fast`` or ``medium``.
        dis_max_side: DIS runs on the pair downscaled so that its longer side is at most
            this many pixels, and the flows are scaled back up (0: always full size).
        refine_max_side: the refinement U-Nets run on the pair halved until its longer side
            is at most this many pixels (at most ``log2(size_multiple)`` halvings; each
            divides their work by 4), and their outputs are upsampled to full size, where
            the warps and the blend are computed (0: always full size, as in the paper).
    """

    base_width: int = 32
    flow_depth: int = 5
    depth: int = 4
    negative_slope: float = 0.1
    legacy_warp: bool = False
    flow: str = "unet"
    padding: str = "zeros"
    refine: bool = True
    dis_preset: str = "medium"
    dis_max_side: int = 1280
    refine_max_side: int = 0

    def __post_init__(self) -> None:
        for name in ("base_width", "flow_depth", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"model config: {name} must be a positive integer, got {value!r}")
        if not isinstance(self.negative_slope, (int, float)) or isinstance(self.negative_slope, bool):
            raise ConfigError(f"model config: negative_slope must be a number, got {self.negative_slope!r}")
        for name in ("legacy_warp", "refine"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"model config: {name} must be true or false, got {getattr(self, name)!r}")
        for name, choices in (("flow", FLOW_SOURCES), ("padding", PADDINGS), ("dis_preset", DIS_PRESETS)):
            if getattr(self, name) not in choices:
                raise ConfigError(f"model config: {name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        for name in ("dis_max_side", "refine_max_side"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"model config: {name} must be a non-negative integer, got {value!r}")
        if self.flow == "unet" and not self.refine:
            raise ConfigError("model config: refine = false needs flow = \"dis\" (the flow U-Net is trained with the rest)")

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (the deepest U-Net's stride)."""
        depths = ([self.flow_depth] if self.flow == "unet" else []) + ([self.depth] if self.refine else [])
        return 2 ** (max(depths) - 1) if depths else 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RRINConfig":
        """Build a config, naming any unknown key instead of ignoring it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"model config: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**dict(values))

    @classmethod
    def from_json(cls, text: str) -> "RRINConfig":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"model config is not valid JSON: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError("model config must be a JSON object")
        return cls.from_dict(values)


def max_refine_levels(config: RRINConfig) -> int:
    """The most halvings the refinement U-Nets' inputs can take: ``log2(size_multiple)``, so
    that a padded input halved that often stays whole; 0 without refinement."""
    return config.size_multiple.bit_length() - 1 if config.refine else 0


def refine_levels(config: RRINConfig, height: int, width: int) -> int:
    """How many times the refinement U-Nets' inputs are halved for a (padded) pair of
    (height, width): the fewest halvings that bring the longer side to
    ``config.refine_max_side`` or under, at most ``log2(size_multiple)`` (so that the halved
    size of a padded input stays whole); 0 without refinement or when ``refine_max_side``
    is 0."""
    limit = config.refine_max_side
    if not limit:
        return 0
    most = max_refine_levels(config)
    levels = 0
    while levels < most and max(height, width) > limit << levels:
        levels += 1
    return levels


#: Named configurations. ``rrin`` is the paper's network; ``lite`` halves every width
#: (about a quarter of the multiply-accumulates) for CPU use. The ``dis`` ones take their
#: flows from OpenCV's DIS and keep the paper's refinement stages, with border reads, refined
#: at half size above 960 px (2.1× faster at 720p for 0.03 dB on the scoreboard's 720p clip);
#: ``dis-synthesis`` is the refinement-free synthesis alone (no parameters).
PRESETS: dict[str, RRINConfig] = {
    "rrin": RRINConfig(),
    "lite": RRINConfig(base_width=16),
    "dis": RRINConfig(flow="dis", padding="border", refine_max_side=960),
    "dis-lite": RRINConfig(base_width=16, flow="dis", padding="border", refine_max_side=960),
    "dis-synthesis": RRINConfig(flow="dis", padding="border", refine=False),
}
