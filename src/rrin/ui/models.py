"""The models the page offers, in plain words: the shipped ones, and the weights file named
with ``--model``.

The page never takes a path for the model: it picks one key of :class:`ModelChoices`, so it
cannot make the server open an arbitrary file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model.config import RRINConfig

__all__ = ["ModelChoices", "DEFAULT_KEY", "model_config"]

#: The key that means "the library's default shipped model" (``model=None``).
DEFAULT_KEY = "default"


@dataclass(frozen=True)
class _Choice:
    key: str
    label: str
    source: str | None  # what Interpolator / convert take: a shipped name, a path, or None


class ModelChoices:
    """The page's model menu, in plain words ("Best quality", "Fastest").

    Args:
        cli_model: the ``--model`` the app was started with (a shipped name or a weights
            file), or None. It becomes the preselected entry.
        shipped: the shipped models (:func:`rrin.model.registry.list_models`'s entries);
            read from the registry when None.

    The menu's keys are the shipped models' names (and a ``--model`` file's name); the key
    ``default`` (the library's default model) is also accepted. With nothing shipped and no
    ``--model``, the menu is empty and :meth:`source` gives None, so a job reaches the
    library's own "no shipped weights" error.
    """

    def __init__(self, cli_model: str | None = None, shipped: list | None = None) -> None:
        if shipped is None:
            from ..model.registry import list_models

            shipped = list_models()
        self.shipped = list(shipped)
        names = {m.name for m in self.shipped}
        choices: list[_Choice] = []
        if cli_model is not None and cli_model not in names:
            path = Path(cli_model)
            choices.append(_Choice(path.name, f"{path.name} (given at start)", str(cli_model)))
        default = _default_name(self.shipped) if self.shipped else None
        ordered = sorted(self.shipped, key=lambda m: m.name != default)
        labels = _plain_labels(ordered, default)
        for model in ordered:
            choices.append(_Choice(model.name, labels[model.name], model.name))
        self._choices = {choice.key: choice for choice in choices}
        self._aliases = {DEFAULT_KEY: None} if self.shipped else {}
        if cli_model is not None:
            self.default_key: str | None = Path(cli_model).name if cli_model not in names else cli_model
        else:
            self.default_key = default

    @property
    def empty(self) -> bool:
        return not self._choices

    def dropdown(self) -> list[tuple[str, str]]:
        """(label, key) pairs for a menu."""
        return [(choice.label, choice.key) for choice in self._choices.values()]

    def source(self, key: str | None) -> str | None:
        """What the library takes for the menu entry ``key``; None (the default model) for
        no choice. :class:`InputError` for a key that is not in the menu."""
        if key in (None, ""):
            return self._choices[self.default_key].source if self.default_key else None
        if key in self._aliases:
            return self._aliases[key]
        if key not in self._choices:
            names = ", ".join(self._choices) or "none: start the app with --model PATH"
            raise InputError(f"unknown model {key!r} (choose from {names})")
        return self._choices[key].source

    def details(self) -> str:
        """Markdown for the folded "About the models" part: each shipped model's
        description, speed and scores (the README's real-footage scoreboard rows)."""
        if not self.shipped:
            if self._choices:
                return "No shipped models are installed: the page uses the weights file it was started with."
            return ("**No model.** No shipped weights are installed and none was named: start the page "
                    "with `rrin ui --model PATH` (a weights file).")
        parts = []
        for model in self.shipped:
            lines = [f"**{self._choices[model.name].label}**: {model.description}."]
            speed = _cell(getattr(model, "speed", None) or (model.scores or {}).get("speed"))
            if speed:
                lines.append(f"Speed: {speed}.")
            scores = [f"{clip}: {_cell(row)}" for clip, row in (model.scores or {}).items() if clip != "speed"]
            if scores:
                lines.append("Scores (PSNR / SSIM, higher is better): " + "; ".join(scores) + ".")
            parts.append("\n\n".join(lines))
        return "\n\n".join(parts)


def _seconds_per_frame(model) -> float | None:
    """The first number of seconds in a registry entry's speed line ("0.88 s per …")."""
    found = re.search(r"(\d+(?:\.\d+)?)\s*s\b", str(getattr(model, "speed", "") or ""))
    return float(found.group(1)) if found else None


def _plain_labels(models: list, default: str | None) -> dict[str, str]:
    """"Best quality (name)" for the default model, "Fastest, about N× quicker (name)" for the
    quickest other one (from the registry's speed lines), the name for the rest."""
    labels = {model.name: model.name for model in models}
    if default is not None:
        labels[default] = f"Best quality ({default})"
    speeds = {model.name: _seconds_per_frame(model) for model in models}
    others = [name for name in labels if name != default and speeds[name]]
    if others:
        fastest = min(others, key=lambda name: speeds[name])
        base = speeds.get(default) if default else None
        quicker = f", about {base / speeds[fastest]:.0f}× quicker" if base and base / speeds[fastest] >= 1.5 else ""
        labels[fastest] = f"Fastest{quicker} ({fastest})"
    return labels


def _default_name(shipped: list) -> str:
    for model in shipped:
        if "cpu" in getattr(model, "default_for", ()):
            return model.name
    return shipped[0].name


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key} {val}" for key, val in value.items())
    if isinstance(value, (list, tuple)):
        return " / ".join(str(v) for v in value)
    return str(value).replace("|", "/")


def model_config(source: str | None) -> RRINConfig | None:
    """The configuration of the model ``source`` names, read from its file's metadata
    without loading it (None when it cannot be told: no model, a foreign format)."""
    from ..model.checkpoint import read_metadata
    from ..model.registry import default_model_name, get_shipped_model

    try:
        name = default_model_name("cpu") if source is None else source
        path = Path(name)
        if not path.is_file():
            path = get_shipped_model(name).path
        values = read_metadata(path).get("config")
        return RRINConfig.from_dict(values) if values else None
    except Exception:  # noqa: BLE001 - only used for a rough time estimate
        return None
