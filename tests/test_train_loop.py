"""The trainer: config checking, exact resume, wall-clock stop, bad inputs, export, losses."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rrin.cli import main
from rrin.data.make_dataset import MakeDatasetOptions, make_dataset
from rrin.errors import CheckpointError, ConfigError, InputError
from rrin.losses import TrainingLoss, census, charbonnier, flow_supervision, laplacian_pyramid, l1
from rrin.model import RRIN, load_checkpoint
from rrin.train import load_config, train
from rrin.train.config import LossSection, config_from_dict, dump_toml, parse_override, to_dict
from test_train_data import pan, texture, write_video

TINY_MODEL = ["model.base_width=4", "model.flow_depth=4", "model.depth=3"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("train_ds")
    tex = texture(11, 64, 200)
    video = write_video(folder / "clip.mp4", [pan(tex, i) for i in range(48)])
    make_dataset([video], folder / "ds", MakeDatasetOptions(size=(40, 32), val_fraction=0.5, segment_frames=12, flow=True))
    return folder / "ds"


def tiny_config(dataset: Path, *extra: str):
    overrides = [*TINY_MODEL, f"data.path={json.dumps(str(dataset))}", "data.val_samples=2", "augment.crop=24",
                 "train.batch_size=2", "train.steps=6", "train.log_every=1", "train.val_every=3",
                 "train.checkpoint_every=2", "train.threads=1", "init.zero_residues=true", "loss.census=0.1",
                 "loss.flow=0.01", "optim.warmup_steps=2", "optim.lr=1e-3", *extra]
    return load_config(None, overrides)


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key optim.lrate"):
        load_config(None, ["optim.lrate=1"])
    with pytest.raises(ConfigError, match="train.steps must be int, got str 'many'"):
        load_config(None, ["train.steps=many"])
    with pytest.raises(ConfigError, match=r"unknown config section \[trian\]"):
        load_config(None, ["trian.steps=1"])
    with pytest.raises(ConfigError, match="model.preset"):
        load_config(None, ["model.preset=huge"])
    path = tmp_path / "c.toml"
    path.write_text('[data]\nkind = "manifest"\nval_samples = "ten"\n')
    with pytest.raises(ConfigError, match="data.val_samples must be int"):
        load_config(path)
    path.write_text("[data\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    assert parse_override("optim.lr=1e-4") == ("optim", "lr", 1e-4)
    assert parse_override("data.path=/a/b") == ("data", "path", "/a/b")
    config = load_config(None, ["model.preset=lite", "model.depth=3", 'init.from="w.safetensors"'])
    assert config.model.build().to_dict() == {**RRIN().config.to_dict(), "base_width": 16, "depth": 3}
    assert config.init.from_ == "w.safetensors"
    assert "from = \"w.safetensors\"" in dump_toml({"init": {"from": "w.safetensors"}})


def test_dump_toml_reads_back_to_the_same_config():
    """The hand-written TOML writer wrote control characters raw (a path with a newline or
    a tab became a file TOML refuses); every value now reads back equal."""
    import tomllib

    path = 'C:\\clips\\"new"\n\tline\x01\x7f é 😀'
    config = config_from_dict({"data": {"path": path, "val_path": "plain"}, "init": {"from": "w.safetensors"},
                               "train": {"max_minutes": float("inf"), "tensorboard": False},
                               "optim": {"lr": 1e-05, "weight_decay": 0.0}, "model": {"preset": "dis-lite"}})
    text = dump_toml(to_dict(config))
    assert config_from_dict(tomllib.loads(text)) == config
    assert tomllib.loads(text)["data"]["path"] == path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_resume_continues_the_same_run(dataset, tmp_path):
    config = tiny_config(dataset)
    straight = train(config, tmp_path / "straight")
    assert straight.state == "finished" and straight.step == 6
    stopped = train(config, tmp_path / "resumed", max_minutes=1e-9)  # stops after the first step
    assert stopped.state == "stopped" and stopped.step == 1
    assert json.loads((tmp_path / "resumed" / "status.json").read_text())["state"] == "stopped"
    resumed = train(config, tmp_path / "resumed", resume=True)
    assert resumed.state == "finished" and resumed.step == 6
    a = torch.load(tmp_path / "straight" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed" / "checkpoints" / "last.pt", weights_only=True)
    for key in ("model", "ema"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)
    for name, state in a["optimizer"]["state"].items():
        assert torch.equal(state["exp_avg"], b["optimizer"]["state"][name]["exp_avg"])
    losses_a = {row["step"]: row["loss"] for row in read_csv(tmp_path / "straight" / "train.csv")}
    losses_b = {row["step"]: row["loss"] for row in read_csv(tmp_path / "resumed" / "train.csv")}
    assert losses_a == losses_b and len(losses_a) == 6
    assert json.loads((tmp_path / "straight" / "status.json").read_text())["state"] == "finished"
    val = read_csv(tmp_path / "straight" / "val.csv")
    assert [row["step"] for row in val] == ["3", "6"] and all(float(r["blend_psnr"]) > 10 for r in val)
    assert sorted(p.name for p in (tmp_path / "straight" / "samples").iterdir()) == ["step_0000003.png", "step_0000006.png"]
    assert (tmp_path / "straight" / "config.toml").read_text() == (tmp_path / "resumed" / "config.toml").read_text()
    # the checkpoint is a weights file for every command: config + EMA weights
    model_config, state = load_checkpoint(tmp_path / "straight" / "checkpoints" / "best.pt")
    assert model_config == config.model.build() and set(state) == set(a["model"])


def test_resume_after_kill_keeps_one_row_per_step(dataset, tmp_path):
    """kill -9 after step 5 (last checkpoint: step 4), then --resume: the status named the
    checkpoint's step, and the logs hold each step once, as a run never killed."""
    import shutil

    config = tiny_config(dataset)  # checkpoints every 2 steps, validation every 3
    killed = tmp_path / "killed"

    def kill_after_step_5(message: str) -> None:  # what kill -9 leaves: the folder as it is now
        if message.startswith("step 5/"):
            shutil.copytree(tmp_path / "straight", killed)

    assert train(config, tmp_path / "straight", progress=kill_after_step_5).step == 6
    assert json.loads((killed / "status.json").read_text()) == {"state": "running", "step": 4}
    assert [row["step"] for row in read_csv(killed / "train.csv")] == ["1", "2", "3", "4", "5"]
    with open(killed / "log.jsonl", "a") as handle:
        handle.write('{"kind": "train", "st')  # a line cut short by the kill
    messages = []
    resumed = train(config, killed, resume=True, progress=messages.append)
    assert (resumed.state, resumed.step) == ("finished", 6) and messages[0] == "resuming at step 4"
    assert [row["step"] for row in read_csv(killed / "val.csv")] == ["3", "6"]
    steps = [row["step"] for row in read_csv(killed / "train.csv")]
    assert steps == ["1", "2", "3", "4", "5", "6"]
    losses = {row["step"]: row["loss"] for row in read_csv(killed / "train.csv")}
    assert losses == {row["step"]: row["loss"] for row in read_csv(tmp_path / "straight" / "train.csv")}
    logged = [json.loads(line) for line in (killed / "log.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in logged] == [
        (r["kind"], r["step"]) for r in map(json.loads, (tmp_path / "straight" / "log.jsonl").read_text().splitlines())]
    assert json.loads((killed / "status.json").read_text())["state"] == "finished"


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(dataset, tmp_path):
    config = tiny_config(dataset, "train.val_every=100")

    def press_ctrl_c_at_step_2(message: str) -> None:
        if message.startswith("step 2/"):
            os.kill(os.getpid(), signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    interrupted = train(config, tmp_path / "run", progress=press_ctrl_c_at_step_2)
    assert signal.getsignal(signal.SIGINT) is handler  # the trainer's handler is gone again
    assert (interrupted.state, interrupted.step) == ("interrupted", 2)
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "interrupted"
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["step"] == 2
    resumed = train(config, tmp_path / "run", resume=True)
    straight = train(config, tmp_path / "straight")
    assert (resumed.state, resumed.step) == ("finished", 6)
    a = torch.load(tmp_path / "straight" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][name], b["model"][name]) for name in a["model"])


def test_run_folder_and_checkpoint_errors(dataset, tmp_path, capsys):
    config = tiny_config(dataset, "train.steps=2")
    train(config, tmp_path / "run")
    status = (tmp_path / "run" / "status.json").read_text()
    with pytest.raises(InputError, match="already holds a run"):
        train(config, tmp_path / "run")
    assert (tmp_path / "run" / "status.json").read_text() == status  # a finished run stays finished
    with pytest.raises(InputError, match="no checkpoint to resume"):
        train(config, tmp_path / "other", resume=True)
    wider = tiny_config(dataset, "model.base_width=6")
    with pytest.raises(CheckpointError, match="trained with model"):
        train(wider, tmp_path / "run", resume=True)
    with pytest.raises(CheckpointError, match="init.from"):
        train(tiny_config(dataset, f'init.from="{tmp_path / "run" / "checkpoints" / "last.pt"}"', "model.base_width=6"),
              tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    missing = tiny_config(tmp_path / "nowhere")
    with pytest.raises(InputError, match="does not exist"):
        train(missing, tmp_path / "never")
    assert not (tmp_path / "never").exists()
    config_file = tmp_path / "bad.toml"
    config_file.write_text("[optim]\nlr = \"fast\"\n")
    assert main(["train", "--config", str(config_file), "--run", str(tmp_path / "r")]) == 2
    assert "optim.lr must be float" in capsys.readouterr().err
    # fine-tuning from a checkpoint with the same architecture works
    result = train(tiny_config(dataset, "train.steps=1", f'init.from="{tmp_path / "run" / "checkpoints" / "last.pt"}"'),
                   tmp_path / "finetune")
    assert result.state == "finished"


def test_export_weights(dataset, tmp_path):
    config = tiny_config(dataset, "train.steps=2")
    train(config, tmp_path / "run")
    checkpoint = tmp_path / "run" / "checkpoints" / "last.pt"
    out = tmp_path / "w.safetensors"
    assert main(["export-weights", str(checkpoint), str(out), "--fp32"]) == 0
    exported_config, exported = load_checkpoint(out)
    _, ema = load_checkpoint(checkpoint, ema=True)
    assert exported_config == config.model.build()
    assert all(torch.equal(exported[k], ema[k]) for k in ema)
    assert main(["export-weights", str(checkpoint), str(out)]) == 2  # exists, no --overwrite
    assert main(["export-weights", str(checkpoint), str(out), "--raw", "--overwrite"]) == 0
    _, raw = load_checkpoint(checkpoint, ema=False)
    exported_raw = load_checkpoint(out)[1]
    assert all(torch.allclose(exported_raw[k], raw[k], atol=1e-3, rtol=1e-3) for k in raw)  # float16 file
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert main(["export-weights", str(tmp_path / "junk.pt"), str(tmp_path / "x.safetensors")]) == 2


def test_losses():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32)
    y = torch.rand(2, 3, 32, 32)
    assert charbonnier(x, x, eps=1e-3).item() == pytest.approx(1e-3)
    assert charbonnier(x, y, eps=1e-6).item() == pytest.approx(l1(x, y).item(), rel=1e-4)
    assert census(x, x).item() == 0.0
    assert census(x.clamp(0, 0.8) + 0.1, x.clamp(0, 0.8)).item() < 1e-6  # blind to a brightness offset
    assert census(x, y).item() > 0.1
    assert laplacian_pyramid(x, x).item() == 0.0 and laplacian_pyramid(x, y).item() > 0
    flow = torch.randn(2, 4, 8, 8)
    assert flow_supervision(flow[:, :2], flow[:, 2:], flow).item() == pytest.approx(0.01)
    loss = TrainingLoss(LossSection(flow=1.0, flow_decay_steps=100))
    assert (loss.flow_weight(0), loss.flow_weight(50), loss.flow_weight(200)) == (1.0, 0.5, 0.0)
    with pytest.raises(ConfigError, match="every loss weight is 0"):
        TrainingLoss(LossSection(charbonnier=0))(type("O", (), {"img_t": x})(), {"img_t": x})
    with pytest.raises(ConfigError, match="perceptual_weights"):
        TrainingLoss(LossSection(perceptual=1.0, perceptual_weights="/nowhere/vgg.pth"))


def test_perceptual_loss_uses_supplied_weights(tmp_path):
    from rrin.losses import PerceptualLoss, _VGGFeatures

    torch.manual_seed(0)
    state = {k: torch.randn_like(v) * 0.05 for k, v in _VGGFeatures().state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # extra keys are ignored
    torch.save(state, tmp_path / "vgg.pth")
    loss = PerceptualLoss(tmp_path / "vgg.pth")
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert loss(x, x).item() == 0.0 and loss(x, y).item() > 0
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="not VGG-16"):
        PerceptualLoss(tmp_path / "bad.pth")


def test_yaml_config(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  preset: rrin\noptim:\n  lr: 0.0005\ntrain:\n  steps: 7\n")
    config = load_config(path, ["train.steps=9"])
    assert (config.model.preset, config.optim.lr, config.train.steps) == ("rrin", 0.0005, 9)
    path.write_text("optim:\n  lr: [1, 2]\n")
    with pytest.raises(ConfigError, match="optim.lr must be float, got list"):
        load_config(path)


def test_init_from_keeps_loaded_weights_and_zero_residues_gives_blend(tmp_path):
    from conftest import make_tiny_model
    from rrin.model import save_weights
    from rrin.train.trainer import _build_model

    source = make_tiny_model(seed=3)
    save_weights(source, tmp_path / "w.safetensors", half=False)
    config = load_config(None, [*TINY_MODEL, "init.zero_residues=true", f'init.from="{tmp_path / "w.safetensors"}"'])
    loaded = _build_model(config, torch.device("cpu"))
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in loaded.state_dict().items())
    fresh = _build_model(load_config(None, [*TINY_MODEL, "init.zero_residues=true"]), torch.device("cpu")).eval()
    img0, img1 = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        out = fresh(img0, img1, 0.25).img_t
    torch.testing.assert_close(out, 0.75 * img0 + 0.25 * img1)


def test_flow_stage_trains_only_the_flow_unet(dataset, tmp_path):
    from rrin.train.trainer import _build_model

    with pytest.raises(ConfigError, match="loss.flow"):
        tiny_config(dataset, "train.stage=flow", "loss.flow=0")
    with pytest.raises(ConfigError, match="train.stage must be"):
        tiny_config(dataset, "train.stage=mask")
    config = tiny_config(dataset, "train.stage=flow", "train.steps=4", "loss.flow=1.0")
    result = train(config, tmp_path / "run")
    assert result.state == "finished" and result.last_val is not None  # validation runs the whole network
    trained = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["model"]
    initial = _build_model(config, torch.device("cpu")).state_dict()
    changed = {name for name, value in trained.items() if not torch.equal(value, initial[name])}
    assert changed and all(name.startswith("flow_unet.") for name in changed)
    rows = read_csv(tmp_path / "run" / "train.csv")
    assert [float(row["flow"]) > 0 for row in rows] == [True] * 4 and "charbonnier" not in rows[0]


def test_kaiming_init_keeps_activations_and_still_starts_at_the_blend():
    from rrin.train.trainer import _build_model

    default = _build_model(load_config(None, ["model.preset=lite", "init.zero_residues=true"]), torch.device("cpu"))
    kaiming = _build_model(load_config(None, ["model.preset=lite", "init.kaiming=true", "init.zero_residues=true"]),
                           torch.device("cpu"))
    assert all(not torch.equal(kaiming.state_dict()[k], v) for k, v in default.state_dict().items() if k.endswith("block.0.weight"))
    assert all(float(m.bias.detach().abs().sum()) == 0 for m in kaiming.modules() if isinstance(m, torch.nn.Conv2d))

    def bottom_std(model) -> float:  # activation scale at the flow U-Net's bottom
        seen = []
        hook = model.flow_unet.midconv.register_forward_hook(lambda module, inputs, output: seen.append(float(output.detach().std())))
        model.flow_unet(torch.rand(1, 6, 64, 64))
        hook.remove()
        return seen[0]

    torch.manual_seed(0)
    assert bottom_std(kaiming) > 3 * bottom_std(default)
    img0, img1 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        out = kaiming.eval()(img0, img1, 0.25).img_t
    torch.testing.assert_close(out, 0.75 * img0 + 0.25 * img1)


def test_a_dis_model_trains_on_stored_and_computed_dis_flows(dataset, tmp_path):
    """``model.flow = "dis"``: the batches carry DIS flows (stored, or computed for random
    spans), the refinement U-Nets learn, validation runs DIS itself, and the checkpoint is a
    weights file of the same configuration (no flow U-Net)."""
    config = load_config(None, [
        "model.preset=dis-lite", "model.base_width=4", "model.depth=3", f"data.path={json.dumps(str(dataset))}",
        "data.val_samples=2", "augment.crop=24", "train.batch_size=2", "train.steps=4", "train.log_every=1",
        "train.val_every=4", "train.checkpoint_every=2", "train.threads=1", "init.kaiming=true",
        "init.zero_residues=true", "optim.warmup_steps=1", "optim.lr=1e-3"])
    result = train(config, tmp_path / "run")
    assert result.state == "finished" and result.step == 4
    model_config, state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", ema=False)
    assert model_config.flow == "dis" and model_config.padding == "border"
    assert not any(name.startswith("flow_unet.") for name in state)
    assert any(float(value.abs().sum()) > 0 for name, value in state.items() if name.endswith("last.weight"))
    val = read_csv(tmp_path / "run" / "val.csv")
    assert len(val) == 1 and float(val[0]["psnr"]) > 10
    with pytest.raises(ConfigError, match="loss.flow"):
        load_config(None, ["model.preset=dis-lite", "loss.flow=0.1"])


def test_train_cli_draws_a_bar_on_a_terminal_and_logs_lines_elsewhere(dataset, tmp_path, capsys, monkeypatch):
    """A terminal gets a bar over the steps (the latest loss after it) with the events above
    it; a log file gets one line per event, logged steps included, as before; -q nothing."""
    from test_progress import Terminal

    config = tmp_path / "tiny.toml"
    config.write_text(dump_toml({}))
    overrides = [*TINY_MODEL, f"data.path={json.dumps(str(dataset))}", "data.val_samples=2", "augment.crop=24",
                 "train.batch_size=2", "train.steps=3", "train.log_every=1", "train.val_every=3", "train.threads=1"]
    argv = ["train", "--config", str(config), *overrides, "--run"]
    assert main([*argv, str(tmp_path / "log")]) == 0
    log = capsys.readouterr().err
    assert "step 1/3 loss" in log and "step 3: val PSNR" in log and "\r" not in log
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main([*argv, str(tmp_path / "tty")]) == 0
    text = terminal.getvalue()
    assert "train" in text and "3/3" in text and "loss " in text and "\r" in text
    assert "step 1/3 loss" not in text  # the logged steps are the bar's note, not lines
    lines = text.splitlines()
    assert any(line.startswith("step 3: val PSNR") for line in lines) and any(line.startswith("finished at step 3") for line in lines)
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main([*argv, str(tmp_path / "quiet"), "-q"]) == 0
    assert sys.stderr.getvalue() == ""
