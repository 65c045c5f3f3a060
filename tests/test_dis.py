"""DIS-flow models: the untrained network is the classical synthesis, and every path takes them."""

import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from rrin import Interpolator
from rrin.data.samples import TrainingSamples
from rrin.model import RRIN, save_weights
from rrin.model.checkpoint import load_checkpoint
from rrin.model.config import PRESETS, RRINConfig
from rrin.model.dis import dis_flow, dis_flows
from rrin.model.rrin import Flows

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bbb_sample.mp4"


@pytest.fixture(scope="module")
def real_pair() -> tuple[np.ndarray, np.ndarray]:
    """Frames 20 and 22 of the sample clip (real footage, with motion), at 320×176."""
    with av.open(str(SAMPLE)) as container:
        frames = [frame.to_ndarray(format="rgb24") for _, frame in zip(range(23), container.decode(video=0))]
    return tuple(cv2.resize(frames[i], (320, 176), interpolation=cv2.INTER_AREA) for i in (20, 22))


def untrained(preset: str = "dis-lite") -> RRIN:
    torch.manual_seed(0)
    model = RRIN(PRESETS[preset])
    model.kaiming_init()
    model.zero_init_residues()
    return model.eval()


def bilinear_border(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample (H, W, C) ``image`` at (x + u, y + v), bilinear, positions clamped to the frame."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    x = np.clip(xs + flow[0], 0, width - 1)
    y = np.clip(ys + flow[1], 0, height - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    top = image[y0, x0] * (1 - wx) + image[y0, x1] * wx
    bottom = image[y1, x0] * (1 - wx) + image[y1, x1] * wx
    return top * (1 - wy) + bottom * wy


def classical_synthesis(frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """The paper's fixed synthesis on DIS flows, written independently with NumPy and OpenCV."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray0, gray1 = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (frame0, frame1))
    flow_01 = dis.calc(gray0, gray1, None).transpose(2, 0, 1).astype(np.float64)
    flow_10 = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(gray1, gray0, None)
    flow_10 = flow_10.transpose(2, 0, 1).astype(np.float64)
    flow_t0 = -(1 - t) * t * flow_01 + t * t * flow_10
    flow_t1 = (1 - t) ** 2 * flow_01 - t * (1 - t) * flow_10
    warped0 = bilinear_border(frame0.astype(np.float64) / 255, flow_t0)
    warped1 = bilinear_border(frame1.astype(np.float64) / 255, flow_t1)
    return np.clip((1 - t) * warped0 + t * warped1, 0, 1)


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255


@pytest.mark.parametrize("t", [0.5, 0.25])
def test_untrained_dis_model_is_the_classical_synthesis(real_pair, t):
    frame0, frame1 = real_pair
    expected = classical_synthesis(frame0, frame1, t)
    with torch.inference_mode():
        output = untrained()(to_tensor(frame0), to_tensor(frame1), t)
    got = output.img_t[0].permute(1, 2, 0).double().numpy()
    assert np.abs(got - expected).max() < 1e-4
    # The flows really move things here: the synthesis is far from a plain blend.
    blend = (1 - t) * frame0 / 255 + t * frame1 / 255
    assert np.abs(expected - blend).mean() > 0.005


def test_refinement_free_preset_equals_the_untrained_network(real_pair):
    img0, img1 = (to_tensor(f) for f in real_pair)
    synthesis = RRIN(PRESETS["dis-synthesis"]).eval()
    assert sum(p.numel() for p in synthesis.parameters()) == 0
    with torch.inference_mode():
        torch.testing.assert_close(synthesis(img0, img1, 0.3).img_t, untrained()(img0, img1, 0.3).img_t, atol=1e-6, rtol=0)


def test_given_flows_are_used_instead_of_dis(real_pair):
    img0, img1 = (to_tensor(f) for f in real_pair)
    model = untrained()
    zero = torch.zeros(1, 2, *img0.shape[-2:])
    with torch.inference_mode():
        output = model(img0, img1, 0.5, Flows(zero, zero))
    torch.testing.assert_close(output.img_t, (0.5 * img0 + 0.5 * img1).clamp(0, 1), atol=1e-5, rtol=0)  # grid_sample rounding


def test_border_padding_reads_the_edge_not_zeros():
    image = torch.full((1, 1, 4, 4), 0.8)
    flow = torch.zeros(1, 2, 4, 4)
    flow[:, 0] = 10.0  # every pixel samples far right of the frame
    from rrin.model.warp import backward_warp

    assert torch.allclose(backward_warp(image, flow, padding="border"), image)
    assert torch.count_nonzero(backward_warp(image, flow, padding="zeros")) == 0


def test_dis_downscaled_flow_is_scaled_back():
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (200, 300), dtype=np.uint8), (0, 0), 2)
    frame0 = np.ascontiguousarray(texture[20:180, 20:260])
    frame1 = np.ascontiguousarray(texture[20:180, 26:266])  # content moves 6 px left: u = -6
    full = dis_flow(frame0, frame1)
    half = dis_flow(frame0, frame1, max_side=120)
    assert half.shape == full.shape == (2, 160, 240)
    inner = (slice(None), slice(30, 130), slice(40, 200))
    assert abs(float(np.median(full[inner][0])) + 6) < 0.5
    assert abs(float(np.median(half[inner][0])) + 6) < 0.75
    assert abs(float(np.median(half[inner][1]))) < 0.5


def test_weights_round_trip_without_a_flow_unet(tmp_path):
    model = untrained()
    path = save_weights(model, tmp_path / "dis.safetensors", half=False)
    config, state = load_checkpoint(path)
    assert config == PRESETS["dis-lite"] and config.flow == "dis" and config.padding == "border"
    assert not any(name.startswith("flow_unet.") for name in state)
    empty = save_weights(RRIN(PRESETS["dis-synthesis"]), tmp_path / "synthesis.safetensors")
    assert load_checkpoint(empty)[0] == PRESETS["dis-synthesis"]


def test_old_configs_keep_the_paper_defaults():
    config = RRINConfig.from_dict({"base_width": 16, "flow_depth": 5, "depth": 4, "negative_slope": 0.1, "legacy_warp": False})
    assert (config.flow, config.padding, config.refine) == ("unet", "zeros", True)


@pytest.mark.parametrize("backend,package", [("eager", None), ("onnxruntime", "onnxruntime"), ("openvino", "openvino")])
def test_backends_run_dis_models(real_pair, backend, package, tmp_path):
    if package:
        pytest.importorskip(package)
    torch.manual_seed(1)
    model = RRIN(PRESETS["dis-lite"]).eval()  # random heads: every stage contributes
    img0, img1 = (to_tensor(f[:64, :96]) for f in real_pair)
    with torch.inference_mode():
        expected = [model(img0, img1, t).img_t for t in (0.25, 0.5)]
    outputs = Interpolator(model, device="cpu", precision="fp32", backend=backend,
                           cache_root=tmp_path).run(img0, img1, [0.25, 0.5])
    for output, reference in zip(outputs, expected):
        torch.testing.assert_close(output.img_t, reference, atol=1e-4, rtol=1e-4)


class _ExactFlowClips:
    """A reader whose clips carry exact (rendered) flows, like the synthetic one."""

    exact_flow = True
    clip_length = 3

    def __init__(self, frames):
        from rrin.data.clips import Clip

        self._clip = Clip(list(frames), np.full((4, *frames[0].shape[:2]), 7.0, np.float32))

    def __len__(self):
        return 1

    def clip(self, index):
        return self._clip


def test_dis_training_samples_never_see_exact_flows(real_pair):
    from rrin.train.config import AugmentSection

    frame0, frame1 = real_pair
    reader = _ExactFlowClips([frame0, frame0, frame1])
    options = AugmentSection(crop=0, hflip=False, vflip=False, reverse=False, channels=False)
    stored = TrainingSamples(reader, options, want_flow=True)[(0, 0)]["flow"]
    estimated = TrainingSamples(reader, options, want_flow=True, estimated_flow=True)[(0, 0)]["flow"]
    assert torch.all(stored == 7.0)
    np.testing.assert_allclose(estimated.numpy(), dis_flows(frame0, frame1))


def test_flow_meter_scores_a_known_translation():
    """The meter on a case whose answer is known: content sliding 5 px right, out of frame."""
    from rrin.metrics import warp_psnr

    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.random((64, 120)).astype(np.float32), (0, 0), 1.5)
    frame0 = torch.from_numpy(np.ascontiguousarray(texture[:, 10:90]))[None, None].repeat(1, 3, 1, 1)
    frame1 = torch.from_numpy(np.ascontiguousarray(texture[:, 5:85]))[None, None].repeat(1, 3, 1, 1)
    exact = torch.zeros(1, 2, 64, 80)
    exact[:, 0] = 5.0  # frame0(x) = frame1(x + 5)
    zero = torch.zeros_like(exact)
    exact_score, zero_score = float(warp_psnr(frame0, frame1, exact)), float(warp_psnr(frame0, frame1, zero))
    # The only error left is the 5-column strip whose source left the frame.
    assert exact_score > zero_score + 10
    assert exact_score > 25


def test_dis_takes_frames_of_any_size():
    """OpenCV's DIS raised on frames under 12 px and killed the process (segfault) on short
    wide ones; the sizes run in a child process so that a crash fails only this test (its
    output names the last size tried)."""
    script = (
        "import numpy as np\n"
        "from rrin.model.dis import dis_flow\n"
        "rng = np.random.default_rng(0)\n"
        "for preset in ('ultrafast', 'medium'):\n"
        "    for h, w in [(8, 10), (1, 1), (5, 7), (12, 40), (16, 128), (31, 192), (24, 2000)]:\n"
        "        print(preset, h, w, flush=True)\n"
        "        a, b = (rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(2))\n"
        "        flow = dis_flow(a, b, preset)\n"
        "        assert flow.shape == (2, h, w) and np.isfinite(flow).all(), flow.shape\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.returncode, result.stdout.splitlines()[-1:], result.stderr[-500:])


def test_the_model_interpolates_tiny_frames():
    model = RRIN(PRESETS["dis-synthesis"]).eval()
    img0, img1 = torch.rand(1, 3, 8, 10), torch.rand(1, 3, 8, 10)
    with torch.inference_mode():
        output = model(img0, img1, 0.5)
    assert output.img_t.shape == (1, 3, 8, 10) and torch.isfinite(output.img_t).all()
