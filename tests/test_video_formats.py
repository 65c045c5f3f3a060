"""What an output video keeps of its source: exact size (odd ones too, with every codec),
rotation, pixel shape, stream order; which codec a container gets; errors in plain words.
Real clips made with PyAV, converted by ``rrin interpolate``."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction

import av
import pytest

from rrin.io.video_writer import CODECS, choose_pix_fmt
from test_video import SRC, decoded, interpolate, make_clip

ODD = [(33, 17), (65, 49)]


def video_facts(path) -> dict:
    """The first video stream's codec, pixel format, frame size, sample aspect ratio and
    rotation, and the types of all streams in order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return {"codec": stream.codec_context.name, "pix_fmt": stream.codec_context.format.name,
                "size": (frame.width, frame.height), "sar": stream.sample_aspect_ratio, "rotation": frame.rotation,
                "streams": [s.type for s in container.streams]}


@pytest.mark.parametrize("size", ODD, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("codec", list(CODECS))
def test_odd_sizes_encode_with_every_codec(tmp_path, synthesis_weights, capsys, codec, size):
    """A 720×405 clip crashed the default command (libx264 refuses odd 4:2:0); every codec
    now writes the exact size (x264/x265 in 4:4:4, with a warning saying so)."""
    clip = make_clip(tmp_path / "odd.mkv", n=3, codec="ffv1", size=size)  # 4:2:0, as a camera's file
    out = tmp_path / "out.mkv"
    assert interpolate([clip, out, "--codec", codec], synthesis_weights) == 0
    frames, _ = decoded(out)
    assert len(frames) == 5 and frames[0].shape == (size[1], size[0], 3)
    facts = video_facts(out)
    err = capsys.readouterr().err
    if codec in ("libx264", "libx265"):
        assert facts["pix_fmt"] == "yuv444p" and "odd side" in err
    else:
        assert facts["pix_fmt"] == "yuv420p" and "odd side" not in err


def test_only_an_odd_height_needs_no_more_than_4_2_2():
    assert choose_pix_fmt("libx264", "yuv420p", 8, 720, 405) == "yuv422p"
    assert choose_pix_fmt("libx265", "yuv420p10le", 10, 33, 17) == "yuv444p10le"
    assert choose_pix_fmt("libx264", "yuv420p", 8, 720, 404) == "yuv420p"
    assert choose_pix_fmt("libvpx-vp9", "yuv420p", 8, 33, 17) == "yuv420p"


def test_frames_smaller_than_dis_can_take_are_interpolated(tmp_path, synthesis_weights):
    """Frames under 12 px crashed OpenCV's DIS (a traceback; a segfault for short wide ones)."""
    for size in ((10, 8), (200, 14)):
        clip = make_clip(tmp_path / "tiny.mkv", n=3, codec="ffv1", size=size)
        out = tmp_path / f"out{size[0]}.mkv"
        assert interpolate([clip, out, "--codec", "ffv1"], synthesis_weights) == 0
        frames, _ = decoded(out)
        assert len(frames) == 5 and frames[1].shape == (size[1], size[0], 3)


@pytest.mark.parametrize("resume", [False, True], ids=["one-pass", "resume"])
def test_rotation_and_pixel_aspect_are_kept(tmp_path, synthesis_weights, resume):
    """A phone video (rotation 90) came out sideways and a 128:117 clip narrower."""
    clip = make_clip(tmp_path / "phone.mp4", n=4, rotation=90, sar=Fraction(128, 117), audio=True)
    assert video_facts(clip)["rotation"] == 90 and video_facts(clip)["sar"] == Fraction(128, 117)
    for name in ("out.mp4", "out.mkv"):
        out = tmp_path / name
        assert interpolate([clip, out, *(["--resume", "--segment-frames", "2"] if resume else [])], synthesis_weights) == 0
        facts = video_facts(out)
        assert facts["rotation"] == 90 and facts["sar"] == Fraction(128, 117), (name, facts)


def test_a_file_that_cannot_keep_the_rotation_or_shape_says_so(tmp_path, synthesis_weights, capsys):
    clip = make_clip(tmp_path / "phone.mp4", n=3, rotation=90, sar=Fraction(128, 117))
    assert interpolate([clip, tmp_path / "out.avi"], synthesis_weights) == 0
    assert "rotation is not kept" in capsys.readouterr().err
    assert interpolate([clip, tmp_path / "out.webm"], synthesis_weights) == 0
    assert "pixel aspect ratio 128:117 is not kept" in capsys.readouterr().err


@pytest.mark.parametrize("audio_first", [False, True], ids=["video-first", "audio-first"])
@pytest.mark.parametrize("resume", [False, True], ids=["one-pass", "resume"])
def test_streams_keep_the_input_order(tmp_path, synthesis_weights, audio_first, resume):
    """The video used to be written last (audio became stream 0)."""
    clip = make_clip(tmp_path / "in.mkv", n=4, codec="ffv1", audio=True, audio_first=audio_first)
    order = video_facts(clip)["streams"]
    assert order == (["audio", "video"] if audio_first else ["video", "audio"])
    out = tmp_path / "out.mkv"
    assert interpolate([clip, out, *(["--resume"] if resume else [])], synthesis_weights) == 0
    assert video_facts(out)["streams"] == order


def test_webm_gets_vp9_without_a_codec_option(tmp_path, synthesis_weights):
    clip = make_clip(tmp_path / "in.mkv", n=3, codec="ffv1")
    assert interpolate([clip, tmp_path / "out.webm"], synthesis_weights) == 0
    assert video_facts(tmp_path / "out.webm")["codec"] == "vp9"
    assert interpolate([clip, tmp_path / "out.mp4"], synthesis_weights) == 0
    assert video_facts(tmp_path / "out.mp4")["codec"] == "h264"


@pytest.mark.parametrize("case, args, message", [
    ("x264 in webm", ["OUT=out.webm", "--codec", "libx264"], "cannot hold libx264 video: choose --codec libvpx-vp9"),
    ("vp9 in mov", ["OUT=out.mov", "--codec", "libvpx-vp9"], "cannot hold libvpx-vp9 video"),
    ("not a video", ["IN=text.mp4"], "is not a readable video: invalid data found when processing input"),
])
def test_errors_are_plain_sentences(tmp_path, synthesis_weights, capsys, case, args, message):
    """FFmpeg's errors reached the user as '[Errno 1094995529] …' and tracebacks."""
    source = make_clip(tmp_path / "in.mkv", n=3, codec="ffv1")
    (tmp_path / "text.mp4").write_text("not a video")
    output = tmp_path / "out.mp4"
    for item in list(args):
        if item.startswith(("OUT=", "IN=")):
            args.remove(item)
            if item.startswith("OUT="):
                output = tmp_path / item[4:]
            else:
                source = tmp_path / item[3:]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert interpolate([source, output, *args], synthesis_weights) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Errno" not in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_x265_encodes_frames_33_to_48_pixels_wide(tmp_path):
    """x265 4.2 corrupted its heap and aborted the process on frames 33–48 px wide (even
    ones too); a child process writes them so that a crash fails only this test."""
    script = (
        "import sys\n"
        "from fractions import Fraction\n"
        "import numpy as np\n"
        "from rrin.io.video_writer import EncodeSettings, VideoWriter\n"
        "for width, height in [(34, 18), (40, 40), (44, 100), (33, 17)]:\n"
        "    print(width, height, flush=True)\n"
        "    pix_fmt = 'yuv420p' if width % 2 == 0 and height % 2 == 0 else 'yuv444p'\n"
        "    settings = EncodeSettings(width, height, Fraction(24), Fraction(1, 24), 'libx265', None, pix_fmt)\n"
        "    writer = VideoWriter(sys.argv[1] + f'/{width}x{height}.mp4', settings)\n"
        "    for k in range(10):\n"
        "        image = np.full((height, width, 3), 40, np.uint8)\n"
        "        image[:, (3 * k) % width:] = 220\n"
        "        writer.write(image, k)\n"
        "    writer.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, (result.returncode, result.stdout.splitlines()[-1:], result.stderr[-500:])
    assert len(decoded(tmp_path / "44x100.mp4")[0]) == 10
