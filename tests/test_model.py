import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from rrin.model import RRIN, RRINConfig, backward_warp, load_checkpoint, load_state_dict

from conftest import TINY, make_tiny_model


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("t, key", [(0.5, "t050"), (0.25, "t025")])
def test_reference_outputs(original_checkpoint, reference_io, legacy, t, key):
    config, state = load_checkpoint(original_checkpoint)
    assert config.legacy_warp is True  # set automatically for original-format weights
    model = RRIN(dataclasses.replace(config, legacy_warp=legacy)).eval()
    load_state_dict(model, state)
    img0 = torch.from_numpy(reference_io["input0"])
    img1 = torch.from_numpy(reference_io["input1"])
    with torch.no_grad():
        out = model(img0, img1, t).img_t.numpy()
    expected = reference_io[("output_legacy_" if legacy else "output_") + key]
    assert np.abs(out - expected).max() < 1e-4


def test_paper_config_has_reference_parameter_count():
    assert sum(p.numel() for p in RRIN().parameters()) == 19_194_445


def test_any_size_is_padded_and_cropped():
    model = make_tiny_model()
    img0, img1 = torch.rand(2, 3, 37, 53), torch.rand(2, 3, 37, 53)
    with torch.no_grad():
        out = model(img0, img1, 0.3)
    for name, value in vars(out).items():
        assert value.shape[-2:] == (37, 53), name
    assert out.img_t.min() >= 0 and out.img_t.max() <= 1
    with torch.no_grad():
        flows = model.flows(img0, img1)  # the same padding, without the synthesis
    assert torch.equal(flows.flow_01, out.flow_01) and torch.equal(flows.flow_10, out.flow_10)


def test_per_sample_time_matches_scalar_time():
    model = make_tiny_model()
    img0, img1 = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        batched = model(img0, img1, torch.tensor([0.2, 0.7])).img_t
        first = model(img0[:1], img1[:1], 0.2).img_t
        second = model(img0[1:], img1[1:], 0.7).img_t
    torch.testing.assert_close(batched, torch.cat([first, second]), atol=1e-5, rtol=0)


def test_zero_init_starts_at_the_time_weighted_blend():
    model = make_tiny_model()
    model.zero_init_residues()
    img0, img1 = torch.rand(1, 3, 24, 40), torch.rand(1, 3, 24, 40)
    with torch.no_grad():
        out = model(img0, img1, 0.25)
    torch.testing.assert_close(out.img_t, 0.75 * img0 + 0.25 * img1, atol=1e-5, rtol=0)
    assert torch.count_nonzero(out.flow_01) == 0


def test_exact_warp_translates_by_whole_pixels():
    image = torch.rand(1, 3, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0] = 2.0  # sample two pixels to the right
    warped = backward_warp(image, flow)
    torch.testing.assert_close(warped[..., :-2], image[..., 2:])
    assert torch.all(warped[..., -1] == 0)  # outside the frame reads zero


def test_config_rejects_unknown_keys_and_bad_types():
    from rrin.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown key"):
        RRINConfig.from_dict({"base_width": 32, "widht": 3})
    with pytest.raises(ConfigError, match="base_width"):
        RRINConfig(base_width="32")
    assert RRINConfig.from_json(TINY.to_json()) == TINY


def test_reference_fixture_travels_with_the_tests():
    """The parity fixture is in the repository: a fresh clone runs the parity tests, and a
    missing file fails them rather than skipping them."""
    from conftest import REFERENCE, reference_file

    tests_dir = Path(__file__).resolve().parent
    assert REFERENCE.is_relative_to(tests_dir)
    for name in ("reference_io.npz", "original_state_dict_shapes.json", "README.md"):
        assert reference_file(name).stat().st_size > 0
    with pytest.raises(pytest.fail.Exception, match="missing"):
        reference_file("no_such_file.npz")
