"""The models the page offers: the shipped ones, and the weights file named with ``--model``.

The page never takes a path for the model: it picks one key of :class:`ModelChoices`, so it
cannot make the server open an arbitrary file.
"""

from __future__ import annotations

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
    """The page's model menu.

    Args:
        cli_model: the ``--model`` the app was started with (a shipped name or a weights
            file), or None. It becomes the preselected entry.
        shipped: the shipped models (:func:`rrin.model.registry.list_models`'s entries);
            read from the registry when None.

    With nothing shipped and no ``--model``, the menu is empty and :meth:`source` gives
    None, so a job reaches the library's own "no shipped weights" error.
    """

    def __init__(self, cli_model: str | None = None, shipped: list | None = None) -> None:
        if shipped is None:
            from ..model.registry import list_models

            shipped = list_models()
        self.shipped = list(shipped)
        choices: list[_Choice] = []
        if cli_model is not None and cli_model not in {m.name for m in self.shipped}:
            path = Path(cli_model)
            choices.append(_Choice(path.name, f"{path.name} (from --model)", str(cli_model)))
        if self.shipped:
            default = _default_name(self.shipped)
            choices.append(_Choice(DEFAULT_KEY, f"default ({default})", None))
            for model in self.shipped:
                choices.append(_Choice(model.name, f"{model.name}: {model.description}".strip(": "), model.name))
        self._choices = {choice.key: choice for choice in choices}
        if cli_model is not None:
            self.default_key: str | None = Path(cli_model).name if cli_model not in {m.name for m in self.shipped} else cli_model
        else:
            self.default_key = DEFAULT_KEY if self.shipped else None

    @property
    def empty(self) -> bool:
        return not self._choices

    def dropdown(self) -> list[tuple[str, str]]:
        """(label, key) pairs for a dropdown."""
        return [(choice.label, choice.key) for choice in self._choices.values()]

    def source(self, key: str | None) -> str | None:
        """What the library takes for the menu entry ``key``; None (the default model) for
        no choice. :class:`InputError` for a key that is not in the menu."""
        if key in (None, ""):
            return self._choices[self.default_key].source if self.default_key else None
        if key not in self._choices:
            names = ", ".join(self._choices) or "none: start the app with --model PATH"
            raise InputError(f"unknown model {key!r} (choose from {names})")
        return self._choices[key].source

    def table(self) -> str:
        """A Markdown table of the shipped models: what each is for, its scores (the
        README's real-footage scoreboard rows) and speed where the registry gives one."""
        if not self.shipped:
            if self._choices:
                return "No shipped models are installed: the page uses the weights file given with `--model`."
            return ("**No model.** No shipped weights are installed and none was named: "
                    "start the page with `rrin ui --model PATH` (a weights file).")
        lines = ["| model | for | scores (PSNR / SSIM) | speed |", "|---|---|---|---|"]
        for model in self.shipped:
            default = f" (default on {', '.join(model.default_for)})" if model.default_for else ""
            scores = "; ".join(f"{clip}: {_cell(row)}" for clip, row in (model.scores or {}).items()) or "–"
            speed = _cell(getattr(model, "speed", None) or (model.scores or {}).get("speed")) or "–"
            lines.append(f"| {model.name}{default} | {model.description} | {scores} | {speed} |")
        return "\n".join(lines)


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
