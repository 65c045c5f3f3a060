"""Tiled inference and flows at a lower scale."""

import pytest
import torch

from conftest import make_tiny_model, moving_square
from rrin.inference import Interpolator
from rrin.inference.flowscale import run_flow_scaled
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
    same = run_flow_scaled(model, img0, img1, [0.3], 1.0, interp.device, interp.dtype)[0]
    torch.testing.assert_close(same, plain)
    half = run_flow_scaled(model, img0, img1, [0.3], 0.5, interp.device, interp.dtype)[0]
    assert half.shape == plain.shape and torch.isfinite(half).all() and 0 <= half.min() and half.max() <= 1


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino", "compile"])
def test_flow_scale_refuses_a_backend_it_cannot_go_through(tmp_path, backend, capsys):
    from rrin.cli import main

    argv = ["interpolate", str(tmp_path / "in.mp4"), str(tmp_path / "out.mp4"), "--flow-scale", "0.5",
            "--backend", backend, "-m", str(tmp_path / "absent.safetensors")]
    assert main(argv) == 2  # before the input or the model is even looked at
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--flow-scale" in err and f"--backend {backend}" in err


def test_flow_scale_with_auto_backend_runs_eager_and_exports_nothing(tmp_path, tiny_weights, monkeypatch):
    """``auto`` would pick OpenVINO or ONNX Runtime on CPU and export graphs the flow-scaled
    path never uses: with --flow-scale it is PyTorch, and the graph cache stays empty."""
    import cv2

    from rrin.cli import main

    cache = tmp_path / "cache"
    monkeypatch.setenv("RRIN_CACHE_DIR", str(cache))
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(2):
        cv2.imwrite(str(frames / f"{k}.png"), moving_square(shift=3 * k))
    argv = ["interpolate", str(frames), str(tmp_path / "out"), "--flow-scale", "0.5", "--backend", "auto",
            "-m", str(tiny_weights), "--device", "cpu", "--quiet", "--tile", "0"]
    assert main(argv) == 0
    assert len(list((tmp_path / "out").iterdir())) == 3
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))

    from rrin.inference.convert import ConvertJob, job_backend

    job = ConvertJob(frames, tmp_path / "o", flow_scale=0.5)
    assert job_backend(job, "auto") == "eager" and job_backend(job, "eager-nchw") == "eager-nchw"
    assert job_backend(ConvertJob(frames, tmp_path / "o"), "openvino") == "openvino"  # without --flow-scale
