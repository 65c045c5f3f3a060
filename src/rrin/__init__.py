"""rrin: video frame interpolation with RRIN (Li, Yuan, Wang, ICASSP 2020).

Public API::

    from rrin import Interpolator
    interp = Interpolator()              # shipped default weights, best device
    middle = interp.interpolate(a, b)    # numpy (H, W, 3) uint8 in, same out

The names below are imported on first use, so ``import rrin`` (and the ``rrin`` command's
``--help``) does not load PyTorch.
"""

from ._lazy import lazy_attributes
from .errors import CheckpointError, ConfigError, InputError, RRINError

__version__ = "0.1.0"

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
