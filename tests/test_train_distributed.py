"""Two CPU processes under torchrun (Gloo) train exactly like one process with twice the batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rrin.train import load_config, train
from test_train_loop import dataset, tiny_config  # noqa: F401  (module fixture)

SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not built")
def test_torchrun_gloo_matches_single_process(dataset, tmp_path):  # noqa: F811
    overrides = ["train.steps=3", "train.val_every=3", "train.checkpoint_every=3", "loss.flow=0.0"]
    single = tiny_config(dataset, "train.batch_size=4", *overrides)
    train(single, tmp_path / "single")

    config_file = tmp_path / "config.toml"
    from rrin.train.trainer import resolved_config
    from rrin.train.config import dump_toml

    config_file.write_text(dump_toml(resolved_config(tiny_config(dataset, "train.batch_size=2", *overrides))))
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(free_port()), "-m", "rrin", "train", "--config", str(config_file),
               "--run-dir", str(tmp_path / "ddp"), "--quiet"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]

    status = json.loads((tmp_path / "ddp" / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 3
    assert len(status["rank_checksums"]) == 2 and status["rank_checksums"][0] == status["rank_checksums"][1]
    a = torch.load(tmp_path / "single" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "ddp" / "checkpoints" / "last.pt", weights_only=True)
    assert b["samples"] == a["samples"] == 12
    for name in a["model"]:
        torch.testing.assert_close(b["model"][name], a["model"][name], rtol=1e-5, atol=1e-6)
    # only rank 0 wrote: one log line per step
    assert len((tmp_path / "ddp" / "train.csv").read_text().splitlines()) == 1 + 3
    assert load_config(tmp_path / "ddp" / "config.toml").train.batch_size == 2
