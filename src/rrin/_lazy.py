"""Lazy package attributes (PEP 562): a package names what it offers without importing it.

``import rrin`` must stay cheap (the ``rrin`` command builds its parser and answers
``--help`` without PyTorch), while ``from rrin import Interpolator`` keeps working: the
attribute's module is imported on first access.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_attributes(package: str, attributes: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``attributes`` maps each public name to the
    submodule (relative, e.g. ``".inference"``) that defines it. Other names are tried as the
    package's submodules (``rrin.model`` after ``import rrin``)."""
    module = importlib.import_module(package)

    def __getattr__(name: str) -> Any:
        if name in attributes:
            value = getattr(importlib.import_module(attributes[name], package), name)
        elif name.startswith("__"):  # no dunder lookups as submodules (copy, pickle, pytest probe these)
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(module, name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(module)) | set(attributes))

    return __getattr__, __dir__
