"""Training: configuration, the loop, checkpoints, distributed set-up, logs."""

from .config import TrainConfig, load_config
from .export import export_weights
from .trainer import TrainResult, train

__all__ = ["TrainConfig", "load_config", "train", "TrainResult", "export_weights"]
