"""Running a trained model: the Interpolator API, devices, explanation pictures."""

from .device import resolve_device, resolve_precision
from .explain import flow_to_color, write_explanation
from .interpolator import Interpolator, PreparedFrames, check_time

__all__ = ["Interpolator", "PreparedFrames", "check_time", "flow_to_color", "resolve_device", "resolve_precision", "write_explanation"]
