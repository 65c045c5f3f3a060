"""The RRIN network, its configuration and its checkpoints."""

from .checkpoint import load_checkpoint, load_state_dict, save_weights
from .config import PRESETS, RRINConfig
from .registry import ShippedModel, default_model_name, get_shipped_model, list_models, load_model
from .rrin import RRIN, Flows, RRINOutput, crop_output
from .warp import backward_warp

__all__ = [
    "RRIN",
    "RRINConfig",
    "RRINOutput",
    "Flows",
    "PRESETS",
    "ShippedModel",
    "backward_warp",
    "crop_output",
    "default_model_name",
    "get_shipped_model",
    "list_models",
    "load_checkpoint",
    "load_model",
    "load_state_dict",
    "save_weights",
]
