"""Training data: clip datasets (ours, Vimeo90K, frame folders), synthetic motion, augmentation."""

from .clips import Clip
from .manifest import ManifestClips
from .samples import TrainingSamples, ValidationSamples

__all__ = ["Clip", "ManifestClips", "TrainingSamples", "ValidationSamples"]
