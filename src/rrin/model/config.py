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

__all__ = ["RRINConfig", "PRESETS"]


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
    """

    base_width: int = 32
    flow_depth: int = 5
    depth: int = 4
    negative_slope: float = 0.1
    legacy_warp: bool = False

    def __post_init__(self) -> None:
        for name in ("base_width", "flow_depth", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"model config: {name} must be a positive integer, got {value!r}")
        if not isinstance(self.negative_slope, (int, float)) or isinstance(self.negative_slope, bool):
            raise ConfigError(f"model config: negative_slope must be a number, got {self.negative_slope!r}")
        if not isinstance(self.legacy_warp, bool):
            raise ConfigError(f"model config: legacy_warp must be true or false, got {self.legacy_warp!r}")

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (the deepest U-Net's stride)."""
        return 2 ** (max(self.flow_depth, self.depth) - 1)

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


#: Named configurations. ``rrin`` is the paper's network; ``lite`` halves every width
#: (about a quarter of the multiply-accumulates) for CPU use.
PRESETS: dict[str, RRINConfig] = {
    "rrin": RRINConfig(),
    "lite": RRINConfig(base_width=16),
}
