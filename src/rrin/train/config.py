"""The training configuration: frozen dataclasses read from TOML (or YAML) plus overrides.

``load_config(path, overrides)`` reads a file, applies ``section.key=value`` overrides
(values parsed as TOML literals, bare words as strings) and checks every key and type: an
unknown key or a wrong type raises :class:`ConfigError` naming it. ``to_dict`` gives the
resolved configuration as plain containers (saved in the run folder and every checkpoint).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the tomli package (a dependency there)
    import tomli as tomllib

from ..errors import ConfigError
from ..inference.device import PRECISIONS
from ..model.config import PRESETS, RRINConfig

__all__ = [
    "ModelSection", "InitSection", "DataSection", "AugmentSection", "LossSection",
    "OptimSection", "TrainSection", "TrainConfig", "load_config", "config_from_dict",
    "to_dict", "dump_toml", "parse_override",
]


@dataclass(frozen=True)
class ModelSection:
    """``preset`` (a name of :data:`rrin.model.config.PRESETS`: "rrin", "lite", "dis",
    "dis-lite") with optional explicit overrides of its fields."""

    preset: str = "lite"
    base_width: int | None = None
    flow_depth: int | None = None
    depth: int | None = None
    negative_slope: float | None = None
    legacy_warp: bool | None = None
    flow: str | None = None
    padding: str | None = None
    refine: bool | None = None
    dis_preset: str | None = None
    dis_max_side: int | None = None
    refine_max_side: int | None = None

    def build(self) -> RRINConfig:
        if self.preset not in PRESETS:
            raise ConfigError(f"model.preset must be one of {', '.join(sorted(PRESETS))}, got {self.preset!r}")
        values = PRESETS[self.preset].to_dict()
        for name in values:
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        return RRINConfig.from_dict(values)


@dataclass(frozen=True)
class InitSection:
    """``kaiming``: initialise a fresh network's convolutions Kaiming-normal (PyTorch's
    default lets activations fade through the U-Nets' depth); ``zero_residues``: then start
    it at the t-weighted blend; ``from``: initial weights file (both others ignored)."""

    kaiming: bool = False
    zero_residues: bool = False
    from_: str = ""
    seed: int = 0


@dataclass(frozen=True)
class DataSection:
    """Where training and validation samples come from.

    ``kind``: ``manifest`` (a ``rrin make-dataset`` folder), ``vimeo_triplet``,
    ``vimeo_septuplet``, ``folder`` (consecutive frames) or ``synthetic`` (photos in
    ``path``, rendered on the fly). ``val_kind``/``val_path`` default to the same source's
    validation split. ``multi_t``: with 7-frame clips, draw t from {1/6, …, 5/6};
    ``random_span``: with 7- or 9-frame clips, also draw the end frames (2 to 6 or 8 frames
    apart), for motions of every size (see :func:`rrin.data.samples.pick_frames`).
    ``hard_clips``: the share of the training stream that draws clips in proportion to the
    fixed DIS synthesis's error on them (the rest uniformly; see :mod:`rrin.data.hardness`).
    """

    kind: str = "manifest"
    path: str = ""
    val_kind: str = ""
    val_path: str = ""
    val_samples: int = 64
    val_crop: int = 0
    multi_t: bool = False
    random_span: bool = False
    hard_clips: float = 0.0
    num_workers: int = 0
    synthetic_size: int = 256
    synthetic_length: int = 100000
    synthetic_layers: int = 4
    synthetic_max_motion: float = 24.0


@dataclass(frozen=True)
class AugmentSection:
    """Each augmentation switchable; ``crop`` 0 keeps the full sample. ``crop_candidates``
    > 1 draws that many windows per sample and keeps one with probability ∝ the fixed DIS
    synthesis's error in it (samples with flows only; see :mod:`rrin.data.hardness`)."""

    crop: int = 192
    crop_candidates: int = 1
    hflip: bool = True
    vflip: bool = True
    reverse: bool = True
    channels: bool = True
    rot90: bool = False


@dataclass(frozen=True)
class LossSection:
    """Weights of the loss terms (0 disables one). ``flow`` is pseudo-flow supervision
    against DIS optical flow, decayed linearly to 0 over ``flow_decay_steps`` (0: constant).
    """

    charbonnier: float = 1.0
    charbonnier_eps: float = 1e-3
    l1: float = 0.0
    census: float = 0.0
    laplacian: float = 0.0
    perceptual: float = 0.0
    perceptual_weights: str = ""
    flow: float = 0.0
    flow_decay_steps: int = 0


@dataclass(frozen=True)
class OptimSection:
    """AdamW with linear warmup then cosine decay to ``lr * min_lr_ratio``."""

    lr: float = 2e-4
    weight_decay: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    warmup_steps: int = 200
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0


@dataclass(frozen=True)
class TrainSection:
    """``stage``: ``full`` trains the whole network on ``[loss]``; ``flow`` is a pre-training
    stage that runs and trains only the flow U-Net against the pseudo-flow (``loss.flow``),
    several times cheaper per pixel. Validation always runs the whole network."""

    stage: str = "full"
    steps: int = 10000
    batch_size: int = 8
    val_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 20
    keep_checkpoints: int = 3
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    ema_decay: float = 0.999
    threads: int = 0
    max_minutes: float = 0.0
    tensorboard: bool = True
    sample_images: int = 4


@dataclass(frozen=True)
class TrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    init: InitSection = field(default_factory=InitSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    loss: LossSection = field(default_factory=LossSection)
    optim: OptimSection = field(default_factory=OptimSection)
    train: TrainSection = field(default_factory=TrainSection)

    def __post_init__(self) -> None:
        self.model.build()  # validates the architecture
        if self.train.precision not in PRECISIONS:
            raise ConfigError(f"train.precision must be one of {', '.join(PRECISIONS)}, got {self.train.precision!r}")
        if self.train.stage not in ("full", "flow"):
            raise ConfigError(f"train.stage must be full or flow, got {self.train.stage!r}")
        if self.train.stage == "flow" and self.model.build().flow != "unet":
            raise ConfigError("train.stage = flow trains the flow U-Net; this model takes its flows from DIS")
        if self.loss.flow > 0 and self.model.build().flow != "unet":
            raise ConfigError("loss.flow supervises the flow U-Net; this model takes its flows from DIS: set it to 0")
        if self.train.stage == "flow" and self.loss.flow <= 0:
            raise ConfigError("train.stage = flow trains against the pseudo-flow: set loss.flow > 0")
        kinds = ("manifest", "vimeo_triplet", "vimeo_septuplet", "folder", "synthetic")
        for key, value in (("data.kind", self.data.kind), ("data.val_kind", self.data.val_kind or self.data.kind)):
            if value not in kinds:
                raise ConfigError(f"{key} must be one of {', '.join(kinds)}, got {value!r}")
        for key in ("train.steps", "train.batch_size", "train.val_every", "train.checkpoint_every", "train.log_every"):
            section, name = key.split(".")
            if getattr(getattr(self, section), name) < 1:
                raise ConfigError(f"{key} must be at least 1")
        if not 0.0 <= self.train.ema_decay < 1.0:
            raise ConfigError("train.ema_decay must be in [0, 1)")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Numbers a run would crash on or silently misuse: none may be negative (seeds
        aside); the learning rate is positive, betas in [0, 1), min_lr_ratio in [0, 1]."""
        for section in dataclasses.fields(self):
            if section.name == "model":  # checked by RRINConfig
                continue
            values = getattr(self, section.name)
            for f in dataclasses.fields(values):
                value = getattr(values, f.name)
                if f.name != "seed" and not isinstance(value, bool) and isinstance(value, (int, float)):
                    if not value >= 0:  # also refuses NaN
                        raise ConfigError(f"{section.name}.{_key(f)} must be at least 0, got {value}")
        if not self.optim.lr > 0:
            raise ConfigError(f"optim.lr must be positive, got {self.optim.lr}")
        for key in ("beta1", "beta2"):
            if not getattr(self.optim, key) < 1:
                raise ConfigError(f"optim.{key} must be in [0, 1), got {getattr(self.optim, key)}")
        if not self.data.hard_clips <= 1:
            raise ConfigError(f"data.hard_clips must be in [0, 1], got {self.data.hard_clips}")
        if not self.optim.min_lr_ratio <= 1:
            raise ConfigError(f"optim.min_lr_ratio must be in [0, 1], got {self.optim.min_lr_ratio}")


def _key(f: dataclasses.Field) -> str:
    return f.name.rstrip("_")


def _check_type(where: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` converted to ``annotation`` or raise a ConfigError naming ``where``."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
    names = " or ".join(getattr(o, "__name__", str(o)) for o in options if o is not type(None))
    raise ConfigError(f"config key {where} must be {names}, got {type(value).__name__} {value!r}")


def _section_from_dict(cls: type, values: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(f"config key {prefix} must be a table, got {type(values).__name__}")
    fields = {_key(f): f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key {prefix}.{unknown[0]}; known in [{prefix}]: {', '.join(sorted(fields))}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        f = fields[key]
        kwargs[f.name] = _check_type(f"{prefix}.{key}", value, hints[f.name])
    return cls(**kwargs)


def config_from_dict(values: Mapping[str, Any]) -> TrainConfig:
    """Build and validate a :class:`TrainConfig` from nested plain containers."""
    sections = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(sections))
    if unknown:
        raise ConfigError(f"unknown config section [{unknown[0]}]; known: {', '.join(sections)}")
    hints = typing.get_type_hints(TrainConfig)
    return TrainConfig(**{name: _section_from_dict(hints[name], values[name], name) for name in values})


def to_dict(config: TrainConfig) -> dict[str, dict[str, Any]]:
    """Resolved config as nested dicts of primitives (``None`` fields left out)."""
    out: dict[str, dict[str, Any]] = {}
    for section in dataclasses.fields(config):
        obj = getattr(config, section.name)
        out[section.name] = {_key(f): getattr(obj, f.name) for f in dataclasses.fields(obj) if getattr(obj, f.name) is not None}
    return out


#: TOML basic-string escapes; other control characters are written as ``\uXXXX``.
_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_value(value: Any) -> str:
    """``value`` (bool, int, float or string) as a TOML literal that reads back equal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # inf and nan are TOML's spellings too
    text = "".join(_TOML_ESCAPES.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in str(value))
    return f'"{text}"'


def dump_toml(values: Mapping[str, Mapping[str, Any]]) -> str:
    """TOML text of a two-level dict of primitives (what :func:`to_dict` returns); TOML's
    parser reads it back to equal values."""
    lines = []
    for section, entries in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in entries.items())
        lines.append("")
    return "\n".join(lines)


def parse_override(text: str) -> tuple[str, str, Any]:
    """``"optim.lr=1e-4"`` → ``("optim", "lr", 1e-4)``; bare words become strings."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form section.key=value")
    key, raw = text.split("=", 1)
    if key.count(".") != 1:
        raise ConfigError(f"override key {key!r} must be section.key (e.g. optim.lr)")
    section, name = key.strip().split(".")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return section, name, value


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError("YAML configs need PyYAML (pip install 'rrin[yaml]'); or use TOML") from None
        try:
            values = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    else:
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a table of sections")
    return values


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read ``path`` (TOML, or YAML with PyYAML) and apply ``section.key=value`` overrides.

    Relative data paths stay as written (relative to the working directory).
    """
    values: dict[str, Any] = _read_file(Path(path)) if path else {}
    values = {k: dict(v) if isinstance(v, Mapping) else v for k, v in values.items()}
    for text in overrides:
        section, name, value = parse_override(text)
        values.setdefault(section, {})
        if not isinstance(values[section], dict):
            raise ConfigError(f"config key {section} must be a table")
        values[section][name] = value
    return config_from_dict(values)
