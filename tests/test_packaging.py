"""What the package promises about itself: Python ≥ 3.10, dependency ranges, one version."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_training_config_reads_toml_without_tomllib():
    """train/config.py imported tomllib (3.11+) although the package promises 3.10: there it
    reads TOML with tomli (tomllib is tomli; this child process stands in for Python 3.10)."""
    assert PYPROJECT["project"]["requires-python"] == ">=3.10"
    assert "tomli>=2; python_version<'3.11'" in PYPROJECT["project"]["dependencies"]
    result = run_python(
        "import sys, tomllib\n"
        "sys.modules['tomli'], sys.modules['tomllib'] = tomllib, None  # import tomllib fails as on 3.10\n"
        "from rrin.train.config import load_config\n"
        "print(load_config(None, ['optim.lr=1e-4']).optim.lr)\n"
    )
    assert result.returncode == 0 and result.stdout.strip() == "0.0001", result.stderr[-800:]


def test_torch_is_a_range_not_a_pin():
    torch = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch")]
    assert len(torch) == 1 and "==" not in torch[0] and ">=" in torch[0], torch


def test_version_comes_from_the_installed_metadata():
    """__version__ was a second, hand-kept copy of pyproject's version."""
    result = run_python(
        "import importlib.metadata as m\n"
        "m.version = lambda name: '9.8.7' if name == 'rrin' else None\n"
        "import rrin\n"
        "from rrin.cli import main\n"
        "print(rrin.__version__)\n"
        "main(['--version'])\n"
    )
    assert result.returncode == 0 and result.stdout.split() == ["9.8.7", "rrin", "9.8.7"], (result.stdout, result.stderr)
