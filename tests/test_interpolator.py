import numpy as np
import pytest
import torch

from rrin import Interpolator, InputError

from conftest import make_tiny_model, moving_square


@pytest.fixture(scope="module")
def interp():
    # The eager backend: these tests look inside the PyTorch model (flow U-Net calls).
    return Interpolator(make_tiny_model(), device="cpu", backend="eager")


def test_numpy_uint8_in_uint8_out(interp):
    out = interp.interpolate(moving_square(), moving_square(shift=3), 0.5)
    assert out.dtype == np.uint8 and out.shape == (40, 56, 3)


def test_tensor_in_tensor_out(interp):
    out = interp.interpolate(torch.rand(3, 20, 30), torch.rand(3, 20, 30), 0.4)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 20, 30)


def test_many_times_compute_flows_once(interp, monkeypatch):
    calls = []
    original = interp.model.flow_unet.forward
    monkeypatch.setattr(interp.model.flow_unet, "forward", lambda x: calls.append(1) or original(x))
    frames = interp.interpolate_many(moving_square(), moving_square(shift=3), [0.25, 0.5, 0.75])
    assert len(frames) == 3 and len(calls) == 1


def test_many_times_match_single_calls(interp):
    a, b = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    many = interp.interpolate_many(a, b, [0.3, 0.6])
    for t, frame in zip([0.3, 0.6], many):
        torch.testing.assert_close(frame, interp.interpolate(a, b, t))


@pytest.mark.parametrize("t", [0.0, 1.0, -0.1, 2])
def test_time_outside_open_interval_is_rejected(interp, t):
    with pytest.raises(InputError):
        interp.interpolate(moving_square(), moving_square(), t)


def test_size_mismatch_is_rejected(interp):
    with pytest.raises(InputError, match="differ in size"):
        interp.interpolate(moving_square(), moving_square(height=30))
