"""``rrin ui``: a local web page (Gradio) over the same library calls as the command line.

Modules: :mod:`.workspace` (the private temp folder, the shared folder and path checks),
:mod:`.models` (the model menu), :mod:`.facts` (an input's facts and the time estimate),
:mod:`.jobs` (the jobs, one at a time, with progress and cancel; no Gradio), :mod:`.app` (the
page) and :mod:`.server` (start/stop). Only :mod:`.app` imports Gradio (the ``ui`` extra).
"""

from .server import RunningApp, UISettings, start

__all__ = ["RunningApp", "UISettings", "start"]
