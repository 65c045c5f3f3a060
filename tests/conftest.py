"""Shared fixtures: the RRIN reference fixture, tiny models and weights files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from rrin.model import RRIN, RRINConfig, save_weights

torch.set_num_threads(min(2, os.cpu_count() or 1))

#: The architecture-parity fixture, carried by the repository (see its README.md).
REFERENCE = Path(__file__).resolve().parent / "fixtures" / "rrin_reference"

#: A very small configuration for fast tests (stride 8).
TINY = RRINConfig(base_width=4, flow_depth=4, depth=3)


def reference_file(name: str) -> Path:
    """A file of the reference fixture; a missing one fails the test (never skips it)."""
    path = REFERENCE / name
    if not path.is_file():
        pytest.fail(f"reference fixture file {path} is missing: it is part of the repository", pytrace=False)
    return path


def original_state_dict() -> dict[str, torch.Tensor]:
    """The fixture's seeded weights in the original release's layout (see its README)."""
    path = reference_file("original_state_dict_shapes.json")
    shapes = json.loads(path.read_text())
    generator = torch.Generator().manual_seed(1234)
    state = {}
    for name in sorted(shapes):
        shape = shapes[name]
        value = torch.randn(shape, generator=generator, dtype=torch.float32)
        scale = math.sqrt(2 / (shape[1] * shape[2] * shape[3])) if len(shape) == 4 else 0.01
        state[name] = value * scale
    return state


@pytest.fixture(scope="session")
def reference_io() -> dict[str, np.ndarray]:
    path = reference_file("reference_io.npz")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def original_checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "rrin_original.pth"
    torch.save(original_state_dict(), path)
    return path


@pytest.fixture(scope="session", autouse=True)
def rrin_cache_dir(tmp_path_factory) -> Path:
    """Exported graphs and compiled kernels go to a temporary folder, not ~/.cache/rrin."""
    folder = tmp_path_factory.mktemp("rrin-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("RRIN_CACHE_DIR", str(folder))
    yield folder
    patch.undo()


def make_tiny_model(seed: int = 0, config: RRINConfig = TINY) -> RRIN:
    torch.manual_seed(seed)
    return RRIN(config).eval()


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A small random-weights safetensors file (a stand-in model for CLI tests)."""
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(make_tiny_model(), path, half=False)
    return path


@pytest.fixture(scope="session")
def synthesis_weights(tmp_path_factory) -> Path:
    """The ``dis-synthesis`` preset (DIS flows, no parameters) as a weights file: a fast,
    deterministic model for conversion tests."""
    from rrin.model.config import PRESETS

    path = tmp_path_factory.mktemp("weights") / "dis_synthesis.safetensors"
    save_weights(RRIN(PRESETS["dis-synthesis"]).eval(), path, half=False)
    return path


def moving_square(height: int = 40, width: int = 56, shift: int = 0, channels: int = 3) -> np.ndarray:
    """A smooth background with a bright square displaced by ``shift`` pixels, uint8."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.stack([(xs * 4) % 256, (ys * 5) % 256, np.full_like(xs, 90)], axis=-1).astype(np.uint8)
    image[10:22, 8 + shift:20 + shift] = (250, 240, 30)
    return image[:, :, :channels]
