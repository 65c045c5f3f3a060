import cv2
import numpy as np
import pytest

from rrin.cli import main
from rrin.io import read_image

from conftest import moving_square


def write(path, array):
    assert cv2.imwrite(str(path), array)
    return path


@pytest.fixture
def pair(tmp_path):
    a = write(tmp_path / "a.png", moving_square(shift=0)[:, :, ::-1])
    b = write(tmp_path / "b.png", moving_square(shift=4)[:, :, ::-1])
    return a, b


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    assert "pair" in capsys.readouterr().out


def test_pair_writes_middle_frame(pair, tmp_path, tiny_weights):
    out = tmp_path / "mid.png"
    assert main(["pair", str(pair[0]), str(pair[1]), "-o", str(out), "--model", str(tiny_weights), "--device", "cpu"]) == 0
    image = read_image(out)
    assert image.size == (40, 56) and image.bit_depth == 8


def test_pair_count_writes_indexed_frames(pair, tmp_path, tiny_weights):
    out = tmp_path / "f.png"
    assert main(["pair", *map(str, pair), "-o", str(out), "--count", "3", "-m", str(tiny_weights)]) == 0
    assert sorted(p.name for p in tmp_path.glob("f_*.png")) == ["f_1.png", "f_2.png", "f_3.png"]


def test_rgba_keeps_alpha_and_16_bit_keeps_depth(tmp_path, tiny_weights):
    rgba = np.dstack([moving_square(), np.full((40, 56), 128, np.uint8)])
    a = write(tmp_path / "a.png", rgba.astype(np.uint16) * 257)
    b = write(tmp_path / "b.png", rgba.astype(np.uint16) * 257)
    out = tmp_path / "o.png"
    assert main(["pair", str(a), str(b), "-o", str(out), "-m", str(tiny_weights)]) == 0
    image = read_image(out)
    assert image.bit_depth == 16 and image.alpha is not None
    # equal alpha in both inputs stays that alpha (warped by the same flows, blended)
    assert np.abs(image.alpha[5:-5, 5:-5] - 128 / 255).max() < 0.02


def test_grayscale_stays_grayscale(tmp_path, tiny_weights):
    a = write(tmp_path / "a.png", moving_square(channels=1)[:, :, 0])
    b = write(tmp_path / "b.png", moving_square(shift=2, channels=1)[:, :, 0])
    out = tmp_path / "o.png"
    assert main(["pair", str(a), str(b), "-o", str(out), "-m", str(tiny_weights)]) == 0
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).ndim == 2


def test_explain_writes_pictures(pair, tmp_path, tiny_weights):
    folder = tmp_path / "why"
    assert main(["pair", *map(str, pair), "-o", str(tmp_path / "o.png"), "-m", str(tiny_weights), "--explain", str(folder)]) == 0
    names = {p.stem for p in folder.glob("*.png")}
    assert {"flow_01", "flow_10", "weight_0", "weight_1", "img0_warped", "img1_warped", "residue"} <= names


def run_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "does not exist"),
        ("not_image", "not a readable image"),
        ("size_mismatch", "differ in size"),
        ("bad_t", "between 0 and 1"),
        ("unknown_model", "unknown model"),
        ("corrupt_checkpoint", "not a weights file"),
        ("exists", "already exists"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(pair, tmp_path, tiny_weights, capsys, case, message):
    a, b = map(str, pair)
    out = str(tmp_path / "o.png")
    model = ["-m", str(tiny_weights)]
    if case == "missing":
        argv = ["pair", str(tmp_path / "nope.png"), b, "-o", out, *model]
    elif case == "not_image":
        (tmp_path / "text.png").write_text("hello")
        argv = ["pair", str(tmp_path / "text.png"), b, "-o", out, *model]
    elif case == "size_mismatch":
        small = write(tmp_path / "small.png", moving_square(height=20))
        argv = ["pair", a, str(small), "-o", out, *model]
    elif case == "bad_t":
        argv = ["pair", a, b, "-o", out, "--t", "1.5", *model]
    elif case == "unknown_model":
        argv = ["pair", a, b, "-o", out, "-m", "no-such-model"]
    elif case == "corrupt_checkpoint":
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00garbage!")
        argv = ["pair", a, b, "-o", out, "-m", str(bad)]
    else:
        (tmp_path / "o.png").write_bytes(b"keep me")
        argv = ["pair", a, b, "-o", out, *model]
    code, err = run_error(capsys, argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    if case == "exists":
        assert (tmp_path / "o.png").read_bytes() == b"keep me"


def test_explain_outputs_are_checked_before_anything_is_written(pair, tmp_path, tiny_weights, capsys):
    """--explain EXISTING_FILE wrote the frame, then failed with a FileExistsError traceback."""
    a, b = map(str, pair)
    out = tmp_path / "o.png"
    (tmp_path / "notes.txt").write_text("keep me")
    code, err = run_error(capsys, ["pair", a, b, "-o", str(out), "-m", str(tiny_weights), "--explain", str(tmp_path / "notes.txt")])
    assert code == 2 and len(err.splitlines()) == 1 and "is a file, not a folder" in err and "Traceback" not in err
    assert not out.exists() and (tmp_path / "notes.txt").read_text() == "keep me"
    folder = tmp_path / "why"
    folder.mkdir()
    (folder / "blend.png").write_bytes(b"an earlier picture")
    code, err = run_error(capsys, ["pair", a, b, "-o", str(out), "-m", str(tiny_weights), "--explain", str(folder)])
    assert code == 2 and "blend.png already exists" in err and "--overwrite" in err
    assert not out.exists() and sorted(p.name for p in folder.iterdir()) == ["blend.png"]
    assert main(["pair", a, b, "-o", str(out), "-m", str(tiny_weights), "--explain", str(folder), "--overwrite", "-q"]) == 0
    assert out.exists() and len(list(folder.glob("*.png"))) == 10


def test_tiny_images_are_interpolated_and_explained(tmp_path, synthesis_weights):
    """Images under 12 px crashed DIS (a traceback); the explanation's legend did not fit."""
    a = write(tmp_path / "a.png", moving_square(height=5, width=7))
    b = write(tmp_path / "b.png", moving_square(height=5, width=7, shift=1))
    out = tmp_path / "o.png"
    assert main(["pair", str(a), str(b), "-o", str(out), "-m", str(synthesis_weights), "--explain", str(tmp_path / "why")]) == 0
    assert read_image(out).size == (5, 7) and read_image(tmp_path / "why" / "flow_01.png").size == (5, 7)
