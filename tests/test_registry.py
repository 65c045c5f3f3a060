"""The registry of shipped weights: what is listed, what loads by default, and the shipped files."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from rrin.cli import main
from rrin.errors import CheckpointError
from rrin.model import registry
from rrin.model.checkpoint import read_metadata


@pytest.fixture
def weights_dir(tmp_path, monkeypatch, tiny_weights):
    """A weights folder with two registered models, one of whose files is missing."""
    shutil.copy(tiny_weights, tmp_path / "small.safetensors")
    entries = [
        {"name": "small", "file": "small.safetensors", "description": "a test model", "default_for": ["cpu"],
         "scores": {"bikes k=2": "27.0 dB"}},
        {"name": "absent", "file": "absent.safetensors", "description": "its file is not installed",
         "default_for": ["cuda"]},
    ]
    (tmp_path / "registry.json").write_text(json.dumps({"models": entries}))
    monkeypatch.setattr(registry, "_weights_dir", lambda: tmp_path)
    return tmp_path


def test_only_installed_models_are_listed_and_loaded(weights_dir):
    assert [model.name for model in registry.list_models()] == ["small"]
    assert registry.default_model_name("cpu") == "small"
    assert registry.default_model_name("cuda") == "small"  # its own default is absent: the first listed
    model = registry.load_model()
    assert isinstance(model, torch.nn.Module) and not model.training
    assert registry.load_model("small").config == model.config
    with pytest.raises(CheckpointError, match="unknown model 'absent'.*small"):
        registry.load_model("absent")


def test_models_command_prints_each_model_and_its_scores(weights_dir, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "small (default on cpu): a test model" in out and "bikes k=2: 27.0 dB" in out
    assert "absent" not in out


def test_empty_registry_asks_for_a_weights_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "registry.json").write_text('{"models": []}')
    monkeypatch.setattr(registry, "_weights_dir", lambda: tmp_path)
    with pytest.raises(CheckpointError, match="--model PATH"):
        registry.default_model_name()
    assert main(["models"]) == 0
    assert "no shipped models" in capsys.readouterr().out


def test_every_shipped_entry_has_its_file_config_and_scores():
    """The real registry: every entry's file is installed and carries its configuration."""
    entries = json.loads((registry._weights_dir() / "registry.json").read_text())["models"]
    assert [model.name for model in registry.list_models()] == [entry["name"] for entry in entries]
    for entry in entries:
        path = registry._weights_dir() / entry["file"]
        config = read_metadata(path)["config"]
        assert config["base_width"] > 0 and entry["description"] and entry["scores"], entry["name"]


def test_models_into_a_closed_pipe_is_no_traceback():
    """`rrin models | head -1`: the reader goes away; rrin stops without a traceback."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # nobody reads: every write fails with EPIPE
    done = subprocess.run([sys.executable, "-m", "rrin", "models"], stdout=write, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    os.close(write)
    assert "Traceback" not in done.stderr and done.returncode == 141
