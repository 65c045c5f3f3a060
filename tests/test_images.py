"""One image decoder: every reader brings 16-bit samples to 8 bits the same way (to the
nearest level), whatever it is reading for (frames to interpolate, training data,
evaluation datasets, the float images of ``rrin pair``)."""

import cv2
import numpy as np
import pytest

from rrin.data.clips import read_rgb8
from rrin.errors import InputError
from rrin.evaluate.datasets import read_uint8
from rrin.io.images import read_image, read_rgb, to_uint8
from rrin.io.sources import FrameFolderReader

# 25900 / 257 = 100.78 (floor 100, nearest 101); 64260 / 257 = 250.04 (v >> 8 would give 251)
SAMPLES = np.array([0, 128, 25900, 64260, 65535], dtype=np.uint16)
EXPECTED = np.array([0, 0, 101, 250, 255], dtype=np.uint8)


@pytest.fixture
def sixteen_bit(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint16)
    bgr[0, :, 0] = SAMPLES  # blue
    bgr[1, :, 2] = SAMPLES  # red
    folder = tmp_path / "frames"
    folder.mkdir()
    assert cv2.imwrite(str(folder / "0.png"), bgr)
    return folder / "0.png"


def test_every_reader_rounds_16_bit_to_the_nearest_8_bit_level(sixteen_bit):
    readers = {
        "read_rgb": read_rgb(sixteen_bit),
        "training clips": read_rgb8(sixteen_bit),
        "evaluation": read_uint8(sixteen_bit),
        "frame folder": next(iter(FrameFolderReader(sixteen_bit.parent))).image,
        "pair (float)": to_uint8(read_image(sixteen_bit).rgb),
    }
    for name, rgb in readers.items():
        assert rgb.dtype == np.uint8 and rgb.shape == (4, 5, 3), name
        assert np.array_equal(rgb[0, :, 2], EXPECTED) and np.array_equal(rgb[1, :, 0], EXPECTED), name


def test_deep_frames_keep_16_bits_and_grey_and_alpha_become_rgb(sixteen_bit, tmp_path):
    deep = next(iter(FrameFolderReader(sixteen_bit.parent, deep=True))).image
    assert deep.dtype == np.uint16 and np.array_equal(deep[1, :, 0], SAMPLES)
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((3, 4), 77, np.uint8))
    assert np.array_equal(read_rgb(grey), np.full((3, 4, 3), 77, np.uint8))
    rgba = tmp_path / "rgba.png"
    cv2.imwrite(str(rgba), np.dstack([np.full((3, 4), v, np.uint8) for v in (1, 2, 3, 4)]))  # B, G, R, A
    assert read_rgb(rgba)[0, 0].tolist() == [3, 2, 1]
    (tmp_path / "bad.png").write_text("no image")
    with pytest.raises(InputError, match="not a readable image"):
        read_rgb(tmp_path / "bad.png")
