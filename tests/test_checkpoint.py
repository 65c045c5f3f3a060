import pytest
import torch

from rrin.errors import CheckpointError
from rrin.model import RRIN, RRINConfig, load_checkpoint, load_model, load_state_dict, save_weights

from conftest import TINY, make_tiny_model, original_state_dict


def test_original_format_loads_with_legacy_warp(original_checkpoint):
    model = load_model(original_checkpoint)
    assert model.config == RRINConfig(legacy_warp=True)


def test_fork_format_loads(tmp_path):
    original = original_state_dict()
    fork_state = {name.replace("Flow_L.", "Flow."): value for name, value in original.items()}
    path = tmp_path / "fork.pth"
    torch.save({"model": fork_state, "optim": {"lr": 1e-4}, "epoch": 7}, path)
    config, state = load_checkpoint(path)
    assert config.legacy_warp is True
    reference = load_checkpoint_of(original)
    assert state.keys() == reference.keys()
    assert all(torch.equal(state[k], reference[k]) for k in state)


def load_checkpoint_of(original):
    from rrin.model.checkpoint import _to_our_names

    return _to_our_names(original, "x")


def test_data_parallel_prefix_is_stripped(tmp_path):
    path = tmp_path / "dp.pth"
    torch.save({f"module.{k}": v for k, v in original_state_dict().items()}, path)
    assert isinstance(load_model(path), RRIN)


def test_safetensors_round_trip_keeps_config_and_weights(tmp_path):
    model = make_tiny_model()
    path = save_weights(model, tmp_path / "w.safetensors", half=False)
    loaded = load_model(path)
    assert loaded.config == TINY
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)


def test_half_precision_weights_are_float32_after_loading(tmp_path):
    path = save_weights(make_tiny_model(), tmp_path / "w16.safetensors", half=True)
    config, state = load_checkpoint(path)
    assert all(v.dtype == torch.float32 for v in state.values())


def test_training_checkpoint_prefers_ema(tmp_path):
    raw, ema = make_tiny_model(1), make_tiny_model(2)
    path = tmp_path / "train.pt"
    torch.save({"model": raw.state_dict(), "ema": ema.state_dict(), "config": {"model": TINY.to_dict()}, "step": 3}, path)
    name = "flow_unet.last.weight"
    assert torch.equal(load_model(path).state_dict()[name], ema.state_dict()[name])
    assert torch.equal(load_model(path, ema=False).state_dict()[name], raw.state_dict()[name])


class _Payload:
    """A class a pickle would have to import and build (never done)."""


def test_pickled_code_is_refused(tmp_path):
    from rrin.train.state import load_training_checkpoint

    path = tmp_path / "evil.pth"
    torch.save({"flow_unet.x": torch.zeros(1), "payload": _Payload()}, path)
    for load in (load_checkpoint, load_model, load_training_checkpoint):
        with pytest.raises(CheckpointError) as info:
            load(path)
        message = str(info.value)
        assert "not a plain weights file" in message and "pickled Python objects" in message
        assert "_Payload" in message  # names what it refused
        assert "save_weights" in message  # how to convert a trusted file
        assert "weights_only" not in message  # never PyTorch's advice to lift the restriction
        assert "\n" not in message


def test_directory_as_model_says_it_is_a_directory(tmp_path):
    from rrin.train.export import export_weights
    from rrin.train.state import load_training_checkpoint

    folder = tmp_path / "weights"
    folder.mkdir()
    for load in (load_model, load_checkpoint, load_training_checkpoint, lambda p: export_weights(p, tmp_path / "o.safetensors")):
        with pytest.raises(CheckpointError, match="is a directory, not a") as info:
            load(folder)
        assert "does not exist" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04garbage"])
def test_corrupt_files_raise_checkpoint_error(tmp_path, content):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_other_architecture_is_explained(tmp_path):
    state = make_tiny_model().state_dict()
    with pytest.raises(CheckpointError, match="does not fit"):
        load_state_dict(RRIN(RRINConfig(base_width=8, flow_depth=4, depth=3)), state)


def test_unknown_name_lists_choices():
    with pytest.raises(CheckpointError, match="unknown model 'no-such-model'"):
        load_model("no-such-model")
