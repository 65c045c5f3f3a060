"""Running a trained model: the Interpolator API, devices, explanation pictures.

The names below are imported on first use (``rrin.inference.schedule`` and the other light
modules load without PyTorch).
"""

from .._lazy import lazy_attributes

__all__ = ["Interpolator", "PreparedFrames", "check_time", "flow_to_color", "resolve_device", "resolve_precision", "write_explanation"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    **dict.fromkeys(("resolve_device", "resolve_precision"), ".device"),
    **dict.fromkeys(("flow_to_color", "write_explanation"), ".explain"),
    **dict.fromkeys(("Interpolator", "PreparedFrames", "check_time"), ".interpolator"),
})
