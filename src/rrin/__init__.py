"""rrin: video frame interpolation with RRIN (Li, Yuan, Wang, ICASSP 2020).

Public API::

    from rrin import Interpolator
    interp = Interpolator()              # shipped default weights, best device
    middle = interp.interpolate(a, b)    # numpy (H, W, 3) uint8 in, same out
"""

from importlib import metadata as _metadata

from .errors import CheckpointError, ConfigError, InputError, RRINError
from .inference import Interpolator
from .model import RRIN, RRINConfig, RRINOutput, list_models, load_model, save_weights

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
