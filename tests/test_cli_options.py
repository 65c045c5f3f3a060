"""Every option is checked where it is parsed: a bad value is one line on stderr and exit
code 2, before any file is opened or any model loaded (never a traceback, never silence)."""

import pytest

from rrin.cli import main
from rrin.errors import ConfigError, InputError

MISSING_MODEL = "/nonexistent/model.safetensors"  # reached only if the option check were skipped


def interpolate(*extra):
    return ["interpolate", "in.mp4", "out.mp4", "-m", MISSING_MODEL, *extra]


BAD_OPTIONS = [
    (interpolate("--factor", "2.5"), "--factor: not an integer"),
    (interpolate("--factor", "1"), "--factor: must be at least 2"),
    (interpolate("--fps", "-3"), "--fps: frame rate must be positive"),
    (interpolate("--input-fps", "x"), "--input-fps: not a frame rate"),
    (interpolate("--tile", "-5"), "--tile: must be at least 0"),
    (interpolate("--tile", "8"), "--tile: must be 0 (never tile) or at least 64"),
    (interpolate("--crf", "-7"), "--crf: must be at least 0"),
    (interpolate("--crf", "100"), "--crf for libx264 must be in 0..51"),
    (interpolate("--crf", "64", "--codec", "libvpx-vp9"), "--crf for libvpx-vp9 must be in 0..63"),
    (interpolate("--crf", "0", "--codec", "libsvtav1"), "--crf for libsvtav1 must be in 1..63"),
    (interpolate("--crf", "10", "--codec", "ffv1"), "--crf does not apply to ffv1"),
    (interpolate("--scene-threshold", "-1"), "--scene-threshold: must be in [0, 1]"),
    (interpolate("--scene-threshold", "nan"), "must be a finite number"),
    (interpolate("--dedup", "2"), "--dedup: must be in [0, 1]"),
    (interpolate("--flow-scale", "0"), "--flow-scale: must be in (0, 1]"),
    (interpolate("--batch-size", "0"), "--batch-size: must be at least 1"),
    (interpolate("--device", "mps"), "--device: unknown device 'mps'"),
    (interpolate("--backend", "tensorrt"), "--backend: invalid choice"),
    (["pair", "a.png", "b.png", "-o", "c.png", "--t", "1"], "--t: must be strictly between 0 and 1"),
    (["pair", "a.png", "b.png", "-o", "c.png", "--count", "0"], "--count: must be at least 1"),
    (["pair", "a.png", "b.png"], "required: -o/--output"),
    (["evaluate", "--dataset", "clip", "--root", "x.mp4", "--factor", "1"], "--factor: must be at least 2"),
    (["evaluate", "--dataset", "clip", "--root", "x.mp4", "--frames", "0"], "--frames: must be at least 1"),
    (["make-dataset", "x.mp4", "--out", "ds", "--stride", "-1"], "--stride: must be at least 0"),
    (["make-dataset", "x.mp4", "--out", "ds", "--size", "4x4"], "--size: size must be at least 8x8"),
    (["make-dataset", "x.mp4", "--out", "ds", "--val-fraction", "1"], "--val-fraction: must be in [0, 1)"),
    (["make-dataset", "x.mp4", "--out", "ds", "--cut-threshold", "-0.1"], "--cut-threshold: must be in [0, 1]"),
    (["make-dataset", "x.mp4", "--out", "ds", "--max-clips", "-1"], "--max-clips: must be at least 0"),
    (["train", "--run", "r", "--max-minutes", "-1"], "--max-minutes: must be at least 0"),
    (["export", "m", "m.onnx", "--tolerance", "0"], "--tolerance: must be greater than 0"),
    (["export-weights", "a.pt"], "required: out"),
    (["models", "--all"], "unrecognized arguments"),
    (["no-such-command"], "invalid choice"),
]


@pytest.mark.parametrize("argv, message", BAD_OPTIONS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD_OPTIONS])
def test_bad_option_is_one_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1, err
    assert err.startswith(("rrin: error:", f"rrin {argv[0]}: error:")), err
    assert message in err
    assert "Traceback" not in err and "usage:" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_usage_error_points_to_help(capsys):
    assert main(["interpolate", "in.mp4", "out.mp4", "--factor", "2.5"]) == 2
    assert capsys.readouterr().err.strip().endswith("(see 'rrin interpolate --help')")


def test_crf_in_range_is_accepted_for_each_codec():
    from pathlib import Path

    from rrin.inference.convert import CRF_RANGES, ConvertJob, check_crf

    for codec, (low, high) in CRF_RANGES.items():
        check_crf(codec, low)
        check_crf(codec, high)
        with pytest.raises(InputError):
            check_crf(codec, high + 1)
    check_crf("ffv1", None)
    ConvertJob(Path("in.mp4"), Path("out.mp4"), codec="libx265", crf=51, tile=64)
    with pytest.raises(InputError, match="--tile"):
        ConvertJob(Path("in.mp4"), Path("out.mp4"), tile=-5)


@pytest.mark.parametrize("device", ["mps", "xla", "meta"])
def test_library_refuses_devices_rrin_does_not_run_on(device):
    from rrin.inference.device import resolve_device

    with pytest.raises(InputError, match="unknown device"):
        resolve_device(device)


@pytest.mark.parametrize("override, key", [
    ("optim.lr=-1e-4", "optim.lr"), ("optim.lr=0", "optim.lr"), ("train.max_minutes=-5", "train.max_minutes"),
    ("loss.l1=-1", "loss.l1"), ("data.num_workers=-2", "data.num_workers"), ("optim.beta2=1.0", "optim.beta2"),
    ("augment.crop=-8", "augment.crop"),
])
def test_train_config_refuses_out_of_range_numbers(override, key):
    from rrin.train import load_config

    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, [override])
