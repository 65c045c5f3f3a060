"""``rrin --help`` and usage errors answer at once: no heavy library is imported for them.

Checked in a fresh interpreter (the test process has long imported everything), by the
modules present in ``sys.modules`` rather than by a clock, which a loaded machine would make
flaky. PyTorch alone takes seconds to import on a busy machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Libraries the parser and its errors must not need.
HEAVY = ("torch", "cv2", "av", "numpy", "gradio", "ray", "openvino", "onnxruntime", "tqdm")

_PROBE = textwrap.dedent("""
    import contextlib, io, json, sys

    HEAVY = {heavy!r}

    def loaded():
        return sorted(name for name in HEAVY if name in sys.modules)

    results = {{}}
    import rrin
    results["import rrin"] = [0, loaded()]
    from rrin.cli import build_parser, main, COMMAND_MODULES
    build_parser()
    results["build_parser()"] = [0, loaded()]
    commands = [["--help"], ["--version"], []] + [[name, "--help"] for name in COMMAND_MODULES] + [
        ["interpolate", "a.mp4", "b.mp4", "--bogus"],
        ["interpolate", "a.mp4", "b.mp4", "--factor", "1"],
        ["interpolate", "a.mp4", "b.mp4", "--fps", "sixty"],
        ["interpolate", "a.mp4", "b.mp4", "--codec", "nope"],
        ["pair", "a.png", "b.png", "-o", "m.png", "--t", "1.5"],
        ["pair", "a.png", "b.png", "-o", "m.png", "--precision", "fp8"],
        ["make-dataset", "videos/", "--out", "data", "--size", "4x4"],
        ["evaluate", "--dataset", "nope", "--root", "x"],
        ["ui", "--port", "0"],
        ["nope"],
    ]
    for argv in commands:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(argv)
        results["rrin " + " ".join(argv)] = [code, loaded()]
    print(json.dumps(results))
""")


def _probe() -> dict[str, list]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_help_and_usage_errors_import_no_heavy_library():
    results = _probe()
    assert len(results) > 20
    for command, (code, heavy) in results.items():
        assert heavy == [], f"{command} imported {', '.join(heavy)}"
        if "--help" in command or "--version" in command or command == "rrin ":
            assert code == 0, command
        elif command.startswith("rrin "):
            assert code == 2, f"{command}: exit code {code}, expected a usage error (2)"


def test_lazy_public_api_still_resolves():
    """``import rrin`` is light, but ``rrin.Interpolator`` and friends are the real objects."""
    import rrin
    from rrin.inference.interpolator import Interpolator
    from rrin.model import RRIN, list_models

    assert rrin.Interpolator is Interpolator and rrin.RRIN is RRIN and rrin.list_models is list_models
    assert set(rrin.__all__) <= set(dir(rrin))
    assert all(getattr(rrin, name) is not None for name in rrin.__all__)
    import rrin.inference

    assert all(getattr(rrin.inference, name) is not None for name in rrin.inference.__all__)
    with pytest.raises(AttributeError, match="no_such_name"):
        rrin.no_such_name
