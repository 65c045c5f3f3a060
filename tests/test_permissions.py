"""Every output gets the permissions the user's umask gives new files and folders (0644 and
0755 under umask 022), whichever command wrote it: files written under a temporary name are
not left private (0600) and temporary folders not 0700."""

from __future__ import annotations

import os
import stat

import cv2
import pytest

from conftest import make_tiny_model, moving_square
from rrin.cli import main
from rrin.io.atomic import atomic_path, temp_folder

UMASK = 0o027  # neither the default 022 nor mkstemp's 077: the mode must come from the umask


@pytest.fixture
def umask():
    old = os.umask(UMASK)
    yield UMASK
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_umask_modes(root) -> None:
    """Every file under ``root`` is 0666 & ~umask, every folder 0777 & ~umask."""
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            assert mode(os.path.join(folder, name)) == 0o777 & ~UMASK, name
        for name in files:
            assert mode(os.path.join(folder, name)) == 0o666 & ~UMASK, name


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_atomic_path_and_temp_folder_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
        folder = temp_folder(tmp_path / "frames")
        (folder / "0.png").write_bytes(b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.txt") == 0o666 & ~mask
    assert folder.parent == tmp_path and folder.name.startswith(".frames.") and folder.name.endswith(".partial")
    assert mode(folder) == 0o777 & ~mask
    assert mode(folder / "0.png") == 0o666 & ~mask


def test_a_writer_that_recreates_the_file_does_not_make_it_private(tmp_path, umask):
    with atomic_path(tmp_path / "w.bin") as tmp:
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # as safetensors does
        os.close(fd)
    assert mode(tmp_path / "w.bin") == 0o666 & ~UMASK


def test_pair_outputs_and_explain_pictures(tmp_path, tiny_weights, umask):
    inputs = tmp_path / "in"
    inputs.mkdir()
    a, b = inputs / "a.png", inputs / "b.png"
    cv2.imwrite(str(a), moving_square(shift=0))
    cv2.imwrite(str(b), moving_square(shift=4))
    out = tmp_path / "out"
    out.mkdir()
    assert main(["pair", str(a), str(b), "-o", str(out / "mid.png"), "--count", "2", "-m", str(tiny_weights),
                 "--device", "cpu", "--backend", "eager", "--explain", str(out / "why")]) == 0
    assert len(list(out.glob("mid_*.png"))) == 2 and len(list((out / "why").glob("*.png"))) >= 8
    assert_umask_modes(out)


def test_weights_checkpoints_and_exported_weights(tmp_path, umask):
    from rrin.model import save_weights
    from rrin.train.state import save_training_checkpoint

    model = make_tiny_model()
    save_weights(model, tmp_path / "w.safetensors")
    checkpoint = save_training_checkpoint(tmp_path / "ckpt" / "last.pt", {
        "model": model.state_dict(), "ema": model.state_dict(), "config": {"model": model.config.to_dict()}, "step": 1})
    assert main(["export-weights", str(checkpoint), str(tmp_path / "exported.safetensors")]) == 0
    assert_umask_modes(tmp_path)


def test_interpolate_to_a_frame_folder_and_to_a_video(tmp_path, tiny_weights, umask):
    source = tmp_path / "src"
    source.mkdir()
    for k in range(3):
        cv2.imwrite(str(source / f"{k}.png"), moving_square(shift=2 * k))
    out = tmp_path / "out"
    out.mkdir()
    common = ["--model", str(tiny_weights), "--device", "cpu", "--backend", "eager", "--quiet", "--tile", "0"]
    assert main(["interpolate", str(source), str(out / "frames"), *common]) == 0
    assert main(["interpolate", str(source), str(out / "video.mkv"), "--codec", "ffv1", *common]) == 0
    assert len(list((out / "frames").iterdir())) == 5
    assert_umask_modes(out)
