"""Refinement at reduced resolution (``refine_max_side``): the rule, what the U-Nets see,
that the full-size warps and blend do not change, and that every backend agrees."""

import dataclasses

import pytest
import torch

from rrin import Interpolator
from rrin.model import RRIN
from rrin.model.config import PRESETS, RRINConfig, refine_levels
from rrin.model.flops import rrin_macs
from rrin.model.rrin import Flows

DIS_TINY = RRINConfig(base_width=4, depth=3, flow="dis", padding="border")  # size multiple 4: up to 2 halvings


def tiny(refine_max_side: int, seed: int = 0) -> RRIN:
    torch.manual_seed(seed)
    return RRIN(dataclasses.replace(DIS_TINY, refine_max_side=refine_max_side)).eval()


def pair(height: int, width: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    img0, img1 = torch.rand(2, 1, 3, height, width, generator=generator)
    flows = Flows(3 * torch.randn(1, 2, height, width, generator=generator),
                  3 * torch.randn(1, 2, height, width, generator=generator))
    return img0, img1, flows


@pytest.mark.parametrize("side,size,expected", [
    (0, (2160, 3840), 0),       # off: the paper's full resolution
    (640, (272, 640), 0),       # already small enough
    (640, (720, 1280), 1),
    (640, (1080, 1920), 2),     # 1920 → 960 → 480
    (640, (4320, 7680), 3),     # capped: log2(8) halvings for the default's multiple of 8
    (960, (1080, 1920), 1),
])
def test_the_rule(side, size, expected):
    config = dataclasses.replace(PRESETS["dis-lite"], refine_max_side=side)
    assert refine_levels(config, *size) == expected
    assert refine_levels(PRESETS["dis-synthesis"], *size) == 0  # nothing to refine


def test_unets_see_the_halved_pair_and_outputs_stay_full_size():
    model = tiny(refine_max_side=24)  # 60x88 → 30x44 → 15x22 (padded to 16x24 inside)
    seen = []
    for unet in model.unets:
        unet.register_forward_hook(lambda module, args, out: seen.append(tuple(args[0].shape[-2:])))
    img0, img1, flows = pair(60, 88)
    with torch.inference_mode():
        out = model.synthesize(img0, img1, flows, 0.5)
    assert seen == [(16, 24)] * 3
    for name, value in vars(out).items():
        assert value.shape[-2:] == (60, 88), name
    assert rrin_macs(model.config, 60, 88) * 8 < rrin_macs(DIS_TINY, 60, 88)


def test_zero_residues_give_the_same_fixed_synthesis_at_every_level():
    """The warps and the blend are computed at full size: with the U-Nets' last layers at
    zero (no residues, equal weights) every level gives exactly the fixed synthesis."""
    img0, img1, flows = pair(40, 56)
    outputs = []
    for side in (0, 28, 14):  # 0, 1 and 2 halvings
        model = tiny(side)
        model.zero_init_residues()
        with torch.inference_mode():
            outputs.append(model.synthesize(img0, img1, flows, 0.3).img_t)
    synthesis = RRIN(dataclasses.replace(DIS_TINY, refine=False)).eval()
    with torch.inference_mode():
        expected = synthesis.synthesize(img0, img1, flows, 0.3).img_t
    for output in outputs:
        torch.testing.assert_close(output, expected, atol=1e-6, rtol=0)


def test_a_uniform_motion_refined_at_half_size_keeps_its_scale():
    """Flows are halved with the size and their residue doubled back: a flow-residue U-Net
    that returns its input flows (a known answer) doubles the flows at any level."""
    img0, img1, flows = pair(32, 48)
    results = []
    for side in (0, 24):
        model = tiny(side)
        model.flow_residue_unet.forward = lambda x: x[:, 0:4]
        with torch.inference_mode():
            results.append(model.synthesize(img0, img1, Flows(torch.full_like(flows.flow_01, 2.0),
                                                               torch.full_like(flows.flow_10, -2.0)), 0.5))
    for out in results:  # t = ½: flow_t0 = -¼ f01 + ¼ f10 = -1, doubled by the residue
        torch.testing.assert_close(out.flow_t0, torch.full_like(out.flow_t0, -2.0))


@pytest.mark.parametrize("name,package", [("onnxruntime", "onnxruntime"), ("openvino", "openvino")])
def test_exported_backends_export_one_graph_per_level(name, package, tmp_path):
    pytest.importorskip(package)
    model = tiny(refine_max_side=24)
    img0, img1, _ = pair(48, 64)
    reference = Interpolator(model, device="cpu", backend="eager").run(img0, img1, [0.25, 0.5])
    outputs = Interpolator(model, device="cpu", precision="fp32", backend=name, cache_root=tmp_path).run(
        img0, img1, [0.25, 0.5])
    assert sorted(p.name.split("-", 1)[1] for p in (tmp_path / "onnx").glob("*.onnx")) == [
        "synthesize-r2.onnx", "synthesize.onnx"]
    for output, expected in zip(outputs, reference):
        torch.testing.assert_close(output.img_t, expected.img_t, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(output.mask, expected.mask, atol=1e-4, rtol=1e-4)
