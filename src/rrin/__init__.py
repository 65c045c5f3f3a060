"""rrin: video frame interpolation with RRIN (Li, Yuan, Wang, ICASSP 2020).

Public API::

    from rrin import Interpolator
    interp = Interpolator()              # shipped default weights, best device
    middle = interp.interpolate(a, b)    # numpy (H, W, 3) uint8 in, same out

The names below are imported on first use, so ``import rrin`` (and the ``rrin`` command's
``--help``) does not load PyTorch.
"""

from importlib import metadata as _metadata

from ._lazy import lazy_attributes
from .errors import CheckpointError, ConfigError, InputError, RRINError

try:  # the installed distribution's version (pyproject.toml), never a second copy of it
    __version__ = _metadata.version("rrin")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "RRIN",
    "RRINConfig",
    "RRINOutput",
    "Interpolator",
    "RRINError",
    "InputError",
    "CheckpointError",
    "ConfigError",
    "list_models",
    "load_model",
    "save_weights",
    "__version__",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "Interpolator": ".inference",
    **dict.fromkeys(("RRIN", "RRINConfig", "RRINOutput", "list_models", "load_model", "save_weights"), ".model"),
})
