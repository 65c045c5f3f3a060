"""Tiled inference and flows at a lower scale."""

from pathlib import Path

import pytest
import torch

from conftest import make_tiny_model, moving_square
from rrin.inference import Interpolator
from rrin.inference.flowscale import flows_at_scale
from rrin.inference.tiling import choose_tile, run_tiled, tile_starts


def pair(height=48, width=64):
    generator = torch.Generator().manual_seed(3)
    img0 = torch.rand(1, 3, height, width, generator=generator)
    return img0, torch.roll(img0, shifts=(1, 2), dims=(2, 3))


def test_tile_starts_cover_with_overlap():
    assert tile_starts(64, 32, 8) == [0, 24, 32]
    assert tile_starts(40, 64, 8) == [0]


def test_feathered_blend_is_exact_for_a_local_operation():
    img0, img1 = pair()

    def blend(a, b, times):
        return [(1 - t) * a + t * b for t in times]

    tiled = run_tiled(blend, img0, img1, [0.25, 0.5], tile=24, overlap=8)
    for t, out in zip([0.25, 0.5], tiled):
        torch.testing.assert_close(out, (1 - t) * img0 + t * img1)


def test_tiled_rrin_is_close_to_untiled():
    interp = Interpolator(make_tiny_model(), device="cpu")
    img0, img1 = pair()

    def run(a, b, times):
        return [o.img_t for o in interp.run(a, b, times)]

    whole = run(img0, img1, [0.5])[0]
    tiled = run_tiled(run, img0, img1, [0.5], tile=40, overlap=24)[0]
    seams = run_tiled(run, img0, img1, [0.5], tile=24, overlap=0)[0]
    error = (tiled - whole).abs().mean().item()
    assert error < 0.02
    assert error < (seams - whole).abs().mean().item()  # overlap + feathering beats hard seams


def test_choose_tile_from_memory_budget():
    assert choose_tile(48, 64, base_width=4, multiple=8, budget=1 << 30) is None
    tile = choose_tile(2160, 3840, base_width=32, multiple=32, overlap=32, budget=4 << 30)
    assert tile is not None and tile % 32 == 0 and tile < 2160


def test_flow_scale_one_is_the_plain_model_and_half_runs():
    model = make_tiny_model()
    interp = Interpolator(model, device="cpu")
    img0, img1 = pair()
    plain = interp.run(img0, img1, [0.3])[0].img_t
    with torch.inference_mode():
        same = interp.run(img0, img1, [0.3], flows_at_scale(model, img0, img1, 1.0))[0].img_t
        half = interp.run(img0, img1, [0.3], flows_at_scale(model, img0, img1, 0.5))[0].img_t
    torch.testing.assert_close(same, plain)
    assert half.shape == plain.shape and torch.isfinite(half).all() and 0 <= half.min() and half.max() <= 1
    assert (half - plain).abs().max() > 1e-4  # other flows, another frame


@pytest.mark.parametrize("backend", ["eager", "onnxruntime"])
def test_flow_scale_runs_on_the_chosen_backend(backend, monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    from rrin.inference import backends
    from rrin.inference.convert import ConvertJob, model_runner

    used = []
    original = backends.select_backend

    def spy(name, *args, **kwargs):
        built = original(name, *args, **kwargs)
        monkeypatch.setattr(built, "iter_run", _record(built.iter_run, used))
        return built

    monkeypatch.setattr(backends, "select_backend", spy)
    monkeypatch.setattr("rrin.inference.interpolator.select_backend", spy)
    job = ConvertJob(Path("in.mp4"), Path("out.mp4"), flow_scale=0.5, tile=0)
    run = model_runner(job, 40, 56, make_tiny_model(), "cpu", "fp32", backend)
    img0, img1 = pair()
    frames = list(run(img0, img1, [0.5]))
    assert len(frames) == 1 and frames[0].shape == img0.shape
    assert used == [True]  # the backend ran, with the flows estimated at scale 0.5


def _record(run, used):
    def wrapped(img0, img1, times, flows=None):
        used.append(flows is not None)
        return run(img0, img1, times, flows)
    return wrapped


def test_dis_model_tiles_use_the_whole_frame_flows():
    from rrin.model.config import PRESETS
    from rrin.model.rrin import RRIN

    torch.manual_seed(0)
    model = RRIN(PRESETS["dis-synthesis"]).eval()
    interp = Interpolator(model, device="cpu", backend="eager")
    img0, img1 = pair()
    with torch.inference_mode():
        flows = model.flows(img0, img1)
    whole = interp.run(img0, img1, [0.5])[0].img_t

    def run(a, b, times, tile_flows=None):
        return [out.img_t for out in interp.run(a, b, times, tile_flows)]

    shared = run_tiled(run, img0, img1, [0.5], tile=24, overlap=8, flows=flows)[0]
    own = run_tiled(run, img0, img1, [0.5], tile=24, overlap=8)[0]  # DIS on each tile alone
    # The synthesis is pixel-wise: with the whole frame's flows, tiles differ from the whole
    # frame only where a displacement reads across a tile's edge.
    assert (shared - whole).abs().mean() < 0.5 * (own - whole).abs().mean()
    assert (shared - whole).abs().median() < 1e-5


def test_flow_scale_with_an_exported_backend_from_the_command_line(tmp_path, tiny_weights):
    """--flow-scale used to run eager PyTorch silently after --backend had exported and
    compiled for nothing; now the flows are estimated at the scale and the rest runs there."""
    pytest.importorskip("onnxruntime")
    import cv2

    from rrin.cli import main

    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(2):
        cv2.imwrite(str(frames / f"{k}.png"), moving_square(shift=3 * k))
    argv = ["interpolate", str(frames), str(tmp_path / "out"), "--flow-scale", "0.5", "--backend", "onnxruntime",
            "-m", str(tiny_weights), "--device", "cpu", "--quiet", "--tile", "0"]
    assert main(argv) == 0
    assert len(list((tmp_path / "out").iterdir())) == 3
