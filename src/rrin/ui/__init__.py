"""``rrin ui``: a local web page (Gradio) over the same library calls as the command line.

Modules: :mod:`.workspace` (the private temp folder, the shared folder and path checks),
:mod:`.guard` (every request's files must be uploads), :mod:`.models` (the model menu in plain
words), :mod:`.facts` (an input's facts and frames), :mod:`.speed` (the measured estimate and
the countdown), :mod:`.jobs` (the jobs, one at a time, with progress and cancel),
:mod:`.sessions` (which browser tab runs what), :mod:`.messages` (problems as one plain
sentence), :mod:`.actions` (what the buttons do, as text), :mod:`.app` (the page, its
:file:`page.js`) and :mod:`.server` (start/stop, the password). Only :mod:`.app` imports
Gradio (the ``ui`` extra).
"""

from .server import RunningApp, UISettings, start

__all__ = ["RunningApp", "UISettings", "start"]
