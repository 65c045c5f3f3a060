"""Evaluation: metrics against known values, dataset readers on fake trees, the harness,
the baselines (FFmpeg minterpolate included) and ``rrin evaluate``."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
import torch

from conftest import moving_square
from rrin.cli import main
from rrin.errors import InputError
from rrin.evaluate import (BlendPredictor, MinterpolatePredictor, ModelPredictor, RepeatPredictor, Sample,
                           evaluate_clip, evaluate_samples, load_clip, open_dataset)
from rrin.metrics import image_scores, interpolation_error, psnr, ssim, to_tensor

H, W = 24, 32


# ---------------------------------------------------------------- metrics

def test_identical_images_score_perfectly():
    image = moving_square(H, W)
    scores = image_scores(image, image)
    assert scores["psnr"] == math.inf and scores["ssim"] == pytest.approx(1.0, abs=1e-6) and scores["ie"] == 0


def test_known_mse_gives_known_psnr():
    target = torch.zeros(1, 3, 16, 16)
    prediction = torch.full((1, 3, 16, 16), 0.1)  # MSE 0.01 → 20 dB
    assert float(psnr(prediction, target)[0]) == pytest.approx(20.0, abs=1e-4)


def test_ssim_of_constant_images_is_the_luminance_term():
    # With constant images all variances vanish: SSIM = (2ab + C1) / (a² + b² + C1).
    a, b, c1 = 0.5, 0.25, 0.01**2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)  # = 0.2501 / 0.3126
    value = float(ssim(torch.full((3, 12, 12), a), torch.full((3, 12, 12), b))[0])
    assert value == pytest.approx(expected, rel=1e-5) and expected == pytest.approx(0.80006, abs=1e-5)


def test_interpolation_error_is_rms_grey_difference():
    target = moving_square(H, W).astype(np.int16)
    prediction = np.clip(target + 10, 0, 255).astype(np.uint8)
    lifted = prediction.astype(np.int16) - target  # 10 wherever the target was below 246
    grey = lifted @ np.array([0.299, 0.587, 0.114])
    expected = float(np.sqrt((grey**2).mean()))
    value = float(interpolation_error(to_tensor(prediction), to_tensor(target.astype(np.uint8)))[0])
    assert value == pytest.approx(expected, rel=1e-5) and value > 5


def test_predictions_are_rounded_to_8_bit_before_scoring():
    target = moving_square(H, W)
    slightly_off = target.astype(np.float32) / 255 + 0.4 / 255  # rounds back to the target
    assert image_scores(slightly_off, target)["psnr"] == math.inf


# ---------------------------------------------------------------- fake dataset trees

def _write(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))


def _triplet(seed, size=(H, W)):
    """Inputs differ per seed (so the oracle can tell samples apart); the ground truth is noisy."""
    rng = np.random.default_rng(seed)
    img0 = moving_square(*size, shift=seed)
    img1 = moving_square(*size, shift=seed + 4)
    gt = np.clip(moving_square(*size, shift=seed + 2).astype(int) + rng.integers(-3, 4, (*size, 3)), 0, 255).astype(np.uint8)
    return img0, img1, gt


def make_tree(kind, root, count=3, size=(H, W)):
    """A fake ``kind`` dataset of ``count`` samples of ``size`` (height, width) under ``root``."""
    triplets = [_triplet(i, size) for i in range(count)]
    if kind == "vimeo90k":
        names = [f"00001/{i:04d}" for i in range(count)]
        (root / "tri_testlist.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / "tri_testlist.txt").write_text("\n".join(names) + "\n")
        for name, (a, b, g) in zip(names, triplets):
            for file, image in (("im1.png", a), ("im2.png", g), ("im3.png", b)):
                _write(root / "sequences" / name / file, image)
    elif kind == "ucf101":
        for i, (a, b, g) in enumerate(triplets):
            for file, image in (("frame_00.png", a), ("frame_01_gt.png", g), ("frame_02.png", b)):
                _write(root / str(i + 1) / file, image)
    elif kind == "middlebury":
        for i, (a, b, g) in enumerate(triplets):
            _write(root / "other-data" / f"Seq{i}" / "frame10.png", a)
            _write(root / "other-data" / f"Seq{i}" / "frame11.png", b)
            _write(root / "other-gt-interp" / f"Seq{i}" / "frame10i11.png", g)
    elif kind == "snufilm":
        lines = []
        for i, (a, b, g) in enumerate(triplets):
            for file, image in (("0.png", a), ("1.png", g), ("2.png", b)):
                _write(root / "test" / f"clip{i}" / file, image)
            lines.append(f"data/SNU-FILM/test/clip{i}/0.png test/clip{i}/1.png test/clip{i}/2.png")
        root.mkdir(parents=True, exist_ok=True)
        (root / "test-medium.txt").write_text("\n".join(lines) + "\n")
    return triplets


class Oracle:
    """Knows every ground truth: the perfect predictor."""

    name = "oracle"

    def __init__(self, triplets):
        self.truth = {a.tobytes() + b.tobytes(): g for a, b, g in triplets}

    def predict(self, img0, img1, times):
        return [self.truth[img0.tobytes() + img1.tobytes()] for _ in times]


def _blend_psnr(triplets):
    values = []
    for a, b, g in triplets:
        blend = np.rint((a.astype(np.float64) + b) / 2)
        mse = ((blend - g) ** 2).mean() / 255**2
        values.append(10 * math.log10(1 / mse))
    return sum(values) / len(values)


@pytest.mark.parametrize("kind", ["vimeo90k", "ucf101", "middlebury", "snufilm"])
def test_reader_finds_every_sample_and_scores_are_exact(kind, tmp_path):
    triplets = make_tree(kind, tmp_path / kind)
    samples = open_dataset(kind, tmp_path / kind)
    assert len(samples) == 3
    loaded = [s.load() for s in samples]
    for sample, (a, b, g) in zip(loaded, triplets):
        assert np.array_equal(sample.img0, a) and np.array_equal(sample.img1, b)
        assert np.array_equal(sample.gt, g) and sample.t == 0.5
    report = evaluate_samples([Oracle(triplets), BlendPredictor()], samples)
    assert report["oracle"].psnr == 100.0 and all(s.psnr == math.inf for s in report["oracle"].scores)
    assert report["oracle"].ssim == pytest.approx(1.0, abs=1e-6) and report["oracle"].ie == 0
    assert report["blend"].psnr == pytest.approx(_blend_psnr(triplets), abs=1e-4)
    assert report["blend"].frames == 3


def test_limit_and_tuple_samples(tmp_path):
    make_tree("vimeo90k", tmp_path)
    assert len(open_dataset("vimeo90k", tmp_path, limit=2)) == 2
    a, b, g = _triplet(0)
    report = evaluate_samples(RepeatPredictor(), [(a, b, g, 0.25)])
    assert report["repeat"].scores[0].psnr == pytest.approx(image_scores(a, g)["psnr"])
    with pytest.raises(InputError, match="differ in size"):
        evaluate_samples(RepeatPredictor(), [(a, b[:-1], g, 0.5)])
    with pytest.raises(InputError, match="no samples"):
        evaluate_samples(RepeatPredictor(), [])


@pytest.mark.parametrize("kind, remove", [
    ("vimeo90k", "sequences/00001/0001/im3.png"),
    ("ucf101", "2/frame_01_gt.png"),
    ("middlebury", "other-data/Seq1/frame11.png"),
    ("snufilm", "test/clip2/1.png"),
])
def test_incomplete_layout_exits_2_naming_the_file(kind, remove, tmp_path, capsys):
    make_tree(kind, tmp_path)
    (tmp_path / remove).unlink()
    code = main(["evaluate", "--dataset", kind, "--root", str(tmp_path), "--baselines", "blend", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and remove.split("/")[-1] in err and "missing" in err


def test_missing_list_and_empty_sets_exit_2(tmp_path, capsys):
    assert main(["evaluate", "--dataset", "vimeo90k", "--root", str(tmp_path), "--quiet"]) == 2
    assert "tri_testlist.txt" in capsys.readouterr().err
    (tmp_path / "tri_testlist.txt").write_text("\n")
    assert main(["evaluate", "--dataset", "vimeo90k", "--root", str(tmp_path), "--quiet"]) == 2
    assert "no samples" in capsys.readouterr().err
    assert main(["evaluate", "--dataset", "ucf101", "--root", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err


# ---------------------------------------------------------------- clips

def _clip(count=9):
    return [moving_square(32, 48, shift=2 * i) for i in range(count)]


def test_clip_keeps_every_kth_frame_and_scores_the_rest():
    frames = _clip(10)  # factor 4 uses frames 0..8: keeps 0, 4, 8
    report = evaluate_clip([RepeatPredictor(), BlendPredictor()], frames, 4)
    assert report.info == {"factor": 4, "frames_used": 9, "frames_kept": 3, "frames_rebuilt": 6}
    names = [s.name for s in report["repeat"].scores]
    assert names == ["frame_0001", "frame_0002", "frame_0003", "frame_0005", "frame_0006", "frame_0007"]
    # Repeat: frames 1 and 5 take their left neighbour 0 / 4, frame 2 (t = 0.5) the right one.
    assert report["repeat"].scores[0].psnr == pytest.approx(image_scores(frames[0], frames[1])["psnr"])
    assert report["repeat"].scores[1].psnr == pytest.approx(image_scores(frames[4], frames[2])["psnr"])
    blend = np.rint(0.25 * frames[4].astype(np.float64) + 0.75 * frames[8]).astype(np.uint8)
    assert report["blend"].scores[-1].psnr == pytest.approx(image_scores(blend, frames[7])["psnr"])
    with pytest.raises(InputError, match="at least 5"):
        evaluate_clip(BlendPredictor(), frames[:4], 4)


def test_minterpolate_rebuilds_static_and_moving_clips():
    still = [moving_square(32, 48)] * 5
    report = evaluate_clip(MinterpolatePredictor(), still, 2)
    assert report["minterpolate"].frames == 2 and report["minterpolate"].psnr > 40
    moving = _clip(9)
    rebuilt = MinterpolatePredictor().predict_sequence(moving[::4], 4)
    assert [len(p) for p in rebuilt] == [3, 3]
    assert all(f.shape == (32, 48, 3) and f.dtype == np.uint8 for pair in rebuilt for f in pair)
    single = MinterpolatePredictor().predict(moving[0], moving[2], [0.5])
    assert len(single) == 1 and single[0].shape == (32, 48, 3)
    with pytest.raises(InputError, match="j/k"):
        MinterpolatePredictor().predict(moving[0], moving[2], [0.3333])


def test_minterpolate_refuses_frames_it_cannot_take_in_one_line(tmp_path, capsys):
    """FFmpeg's filter refuses frames under 32 pixels a side: a one-line error, not av.error's traceback."""
    small = [moving_square(24, 64, shift=2 * k) for k in range(3)]
    with pytest.raises(InputError, match="at least 32x32 pixels, got 64x24"):
        MinterpolatePredictor().predict_sequence(small[::2], 2)
    _write_video(tmp_path / "small.mp4", small)
    code = main(["evaluate", "--dataset", "clip", "--root", str(tmp_path / "small.mp4"), "--baselines", "minterpolate",
                 "--model", "dis-synthesis", "--quiet"])
    assert code == 2
    assert "at least 32x32 pixels" in capsys.readouterr().err


def test_model_predictor_matches_the_interpolator(tiny_weights):
    from rrin.inference import Interpolator

    predictor = ModelPredictor.load(tiny_weights, device="cpu")
    assert predictor.name == tiny_weights.stem
    a, b = moving_square(32, 48, shift=0), moving_square(32, 48, shift=4)
    expected = Interpolator(tiny_weights, device="cpu").interpolate_many(a, b, [0.25, 0.5])
    got = predictor.predict(a, b, [0.25, 0.5])
    assert all(np.array_equal(x, y) and x.dtype == np.uint8 for x, y in zip(got, expected))


def _write_video(path, frames, rate=10):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(rate))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"qscale": "2"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_load_clip_from_video_and_folder(tmp_path):
    frames = _clip(7)
    _write_video(tmp_path / "clip.mp4", frames)
    decoded = load_clip(tmp_path / "clip.mp4", frames=5)
    assert len(decoded) == 5 and decoded[0].shape == (32, 48, 3)
    assert image_scores(decoded[3], frames[3])["psnr"] > 25  # a real (lossy) codec
    for i, image in enumerate(frames):
        _write(tmp_path / "seq" / f"f{i}.png", image)
    loaded = load_clip(tmp_path / "seq", frames=41)
    assert len(loaded) == 7 and all(np.array_equal(x, y) for x, y in zip(loaded, frames))


def test_cli_clip_report_and_images(tiny_weights, tmp_path, capsys):
    for i, image in enumerate(_clip(9)):
        _write(tmp_path / "seq" / f"{i:03d}.png", image)
    out = tmp_path / "report.json"
    argv = ["evaluate", "--dataset", "clip", "--root", str(tmp_path / "seq"), "--factor", "2", "--model", str(tiny_weights),
            "--device", "cpu", "--baselines", "repeat,blend", "--out", str(out), "--save-images", str(tmp_path / "img"),
            "--worst", "2", "--quiet"]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "blend" in table and "repeat" in table and tiny_weights.stem in table
    report = json.loads(out.read_text())
    assert [m["name"] for m in report["methods"]] == [tiny_weights.stem, "repeat", "blend"]
    assert report["factor"] == 2 and all(m["frames"] == 4 for m in report["methods"])
    assert len(list((tmp_path / "img" / "blend").glob("*_error.png"))) == 2
    assert main(argv) == 2  # the report exists and --overwrite was not given
    assert "exists" in capsys.readouterr().err
    assert main(argv[:-1] + ["--baselines", "warp", "--quiet"]) == 2
