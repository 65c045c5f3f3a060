"""rrin: video frame interpolation with RRIN (Li, Yuan, Wang, ICASSP 2020).

Public API::

    from rrin import Interpolator
    interp = Interpolator()              # shipped default weights, best device
    middle = interp.interpolate(a, b)    # numpy (H, W, 3) uint8 in, same out
"""

from .errors import CheckpointError, ConfigError, InputError, RRINError
from .inference import Interpolator
from .model import RRIN, RRINConfig, RRINOutput, list_models, load_model, save_weights

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
