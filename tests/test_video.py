"""``rrin interpolate`` end to end on real tiny clips made with PyAV."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import moving_square
from rrin.cli import main
from rrin.io.video import VideoReader

W, H = 64, 48
SRC = Path(__file__).resolve().parents[1] / "src"


def pattern(k: int, scene: int = 0, size: tuple[int, int] = (W, H)) -> np.ndarray:
    image = moving_square(size[1], size[0], shift=2 * k)
    return image if scene == 0 else np.ascontiguousarray(255 - image[::-1])


def make_clip(path: Path, n: int = 10, codec: str = "libx264", pix_fmt: str = "yuv420p", rate: int = 12,
              audio: bool = False, cut_at: int | None = None, pts: list[int] | None = None,
              time_base: Fraction | None = None, color: dict | None = None, size: tuple[int, int] = (W, H),
              rotation: int | None = None, sar: Fraction | None = None, audio_first: bool = False) -> Path:
    """A clip of the moving square, ``size`` = (width, height); with ``audio`` a 440 Hz tone
    stream after the video (before it with ``audio_first``); ``rotation`` (degrees,
    counter-clockwise) and ``sar`` go into the container as a phone's camera writes them."""
    out = av.open(str(path), "w")
    sound = out.add_stream("aac", rate=16000) if audio and audio_first else None
    stream = out.add_stream(codec, rate=rate)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], pix_fmt
    if time_base is not None:
        stream.codec_context.time_base = time_base
    for name, value in (color or {}).items():
        setattr(stream.codec_context, name, value)
    if sar is not None:
        stream.codec_context.sample_aspect_ratio = sar
    if rotation is not None:
        stream.set_display_rotation(rotation)
    if audio and not audio_first:
        sound = out.add_stream("aac", rate=16000)
    for k in range(n):
        frame = av.VideoFrame.from_ndarray(pattern(k, int(cut_at is not None and k >= cut_at), size), format="rgb24")
        frame = frame.reformat(format=pix_fmt, dst_colorspace=(color or {}).get("colorspace"))
        if pts is not None:
            frame.pts, frame.time_base = pts[k], time_base
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    if audio:
        start = 0
        while start < 16000 * n // rate:
            samples = (0.3 * np.sin(2 * np.pi * 440 * (np.arange(1024) + start) / 16000)).astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, start
            start += 1024
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    out.close()
    return path


def decoded(path: Path) -> tuple[list[np.ndarray], list[Fraction]]:
    with VideoReader(path) as reader:
        frames = list(reader)
        assert reader.error is None
    return [f.image for f in frames], [f.timestamp for f in frames]


def interpolate(args, weights, capsys=None):
    code = main(["interpolate", *map(str, args), "--model", str(weights), "--quiet"])
    return code


def test_factor_keeps_audio_in_sync(tmp_path, tiny_weights):
    clip = make_clip(tmp_path / "in.mp4", n=6, audio=True)
    out = tmp_path / "out.mp4"
    assert interpolate([clip, out, "--factor", "3"], tiny_weights) == 0
    frames, times = decoded(out)
    assert len(frames) == (6 - 1) * 3 + 1
    assert times == [Fraction(m, 36) for m in range(16)]
    with av.open(str(clip)) as src, av.open(str(out)) as dst:
        a_in, a_out = src.streams.audio[0], dst.streams.audio[0]
        assert a_out.codec_context.name == "aac"
        packets_in = [(p.pts, bytes(p)) for p in src.demux(a_in) if p.size]
        packets_out = [(p.pts, bytes(p)) for p in dst.demux(a_out) if p.size]
        assert packets_out == packets_in  # copied unchanged: same duration, same start
    assert not list(tmp_path.glob(".*partial*"))


def test_fps_on_vfr_input_places_frames_by_timestamp(tmp_path, tiny_weights):
    pts = [0, 100, 200, 500, 600, 700, 1000, 1100]  # ms, irregular
    clip = make_clip(tmp_path / "vfr.mkv", n=len(pts), codec="ffv1", pix_fmt="yuv444p", pts=pts, time_base=Fraction(1, 1000))
    src_frames, src_times = decoded(clip)
    assert [int(t * 1000) for t in src_times] == pts
    out = tmp_path / "out.mkv"
    assert interpolate([clip, out, "--fps", "20", "--codec", "ffv1"], tiny_weights) == 0
    frames, times = decoded(out)
    assert times == [Fraction(m, 20) for m in range(23)]  # 0 … 1.1 s every 50 ms
    for k, p in enumerate(pts):  # inputs reused at their own time (RGB→YUV→RGB rounding: ±1)
        assert np.abs(frames[p // 50].astype(int) - src_frames[k].astype(int)).max() <= 1
    between = frames[250 // 50]  # 250 ms: t = 0.5 between the inputs at 200 and 500 ms
    assert np.abs(between.astype(int) - src_frames[2].astype(int)).max() > 1


def test_ten_bit_and_colour_metadata_are_kept(tmp_path, tiny_weights):
    color = {"color_range": 1, "colorspace": 1, "color_primaries": 1, "color_trc": 1}
    clip = make_clip(tmp_path / "deep.mkv", n=5, codec="ffv1", pix_fmt="yuv420p10le", color=color)
    for codec in ("ffv1", "libx264"):
        out = tmp_path / f"out-{codec}.mkv"
        assert interpolate([clip, out, "--factor", "2", "--codec", codec], tiny_weights) == 0
        with av.open(str(out)) as container:
            context = container.streams.video[0].codec_context
            assert context.format.name == "yuv420p10le"
            assert [int(getattr(context, k)) for k in color] == list(color.values())
        with VideoReader(out, deep=True) as reader:
            frames = list(reader)
        assert len(frames) == 9 and frames[0].image.dtype == np.uint16
    with VideoReader(clip, deep=True) as reader:
        source = [f.image for f in reader]
    with VideoReader(tmp_path / "out-ffv1.mkv", deep=True) as reader:
        lossless = [f.image for f in reader]
    for k in range(5):  # inputs through RGB48 → 10-bit 4:2:0 again: off by at most one 10-bit
        diff = np.abs(lossless[2 * k].astype(int) - source[k].astype(int))  # level (64) except
        assert np.median(diff) <= 64 and diff.mean() < 0.005 * 65535  # at chroma-resampled edges


@pytest.mark.parametrize("mode", ["nearest", "repeat", "blend"])
def test_no_morphing_across_a_cut(tmp_path, tiny_weights, mode):
    clip = make_clip(tmp_path / "cut.mkv", n=5, codec="ffv1", pix_fmt="yuv444p", cut_at=3)
    src_frames, _ = decoded(clip)
    out = tmp_path / "frames"
    options = ["--factor", "4"] + ([] if mode == "nearest" else ["--on-cut", mode])  # nearest is the default
    assert interpolate([clip, out] + options, tiny_weights) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"{m:06d}.png" for m in range(17)]
    frames = [cv2.imread(str(f))[:, :, ::-1] for f in files]
    before, across, after = frames[9], frames[10], frames[11]  # t = 1/4, 1/2, 3/4 between input 2 (scene A) and 3 (B)
    if mode == "nearest":
        assert np.array_equal(before, src_frames[2])
        assert np.array_equal(across, src_frames[3]) and np.array_equal(after, src_frames[3])
    elif mode == "repeat":
        assert np.array_equal(across, src_frames[2]) and np.array_equal(after, src_frames[2])
    else:
        mix = np.rint(0.5 * src_frames[2].astype(np.float32) + 0.5 * src_frames[3].astype(np.float32))
        assert np.array_equal(across, mix.astype(np.uint8))
    inside = frames[1]  # an ordinary pair is interpolated, not repeated
    assert not np.array_equal(inside, src_frames[0])


def test_dedup_interpolates_across_duplicates(tmp_path, tiny_weights):
    folder = tmp_path / "in"
    folder.mkdir()
    images = [pattern(0), pattern(0), pattern(4), pattern(6)]
    for k, image in enumerate(images):
        cv2.imwrite(str(folder / f"{k + 1}.png"), image[:, :, ::-1])
    cv2.imwrite(str(folder / "10.png"), pattern(8)[:, :, ::-1])  # natural order: after 4.png
    out = tmp_path / "out"
    assert interpolate([folder, out, "--factor", "2", "--dedup"], tiny_weights) == 0
    frames = [cv2.imread(str(p))[:, :, ::-1] for p in sorted(out.iterdir())]
    assert len(frames) == (5 - 1) * 2 + 1
    assert np.array_equal(frames[0], images[0]) and np.array_equal(frames[4], images[2])
    assert np.array_equal(frames[8], pattern(8))
    assert not np.array_equal(frames[2], images[0])  # the duplicate slot is interpolated


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "rrin", "interpolate", *map(str, args), "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def segments_done(journal: Path) -> int:
    return len(json.loads(journal.read_text())["segments"]) if journal.is_file() else 0


def interrupt_after(child, journal: Path, segments: int, sig) -> None:
    while child.poll() is None:
        if segments_done(journal) >= segments:
            child.send_signal(sig)
            break
        time.sleep(0.005)
    child.wait()


def test_resume_after_kill_and_ctrl_c_gives_identical_frames(tmp_path, tiny_weights):
    clip = make_clip(tmp_path / "in.mkv", n=8, codec="ffv1", pix_fmt="yuv444p", audio=True)
    common = ["--factor", "8", "--codec", "ffv1", "--model", tiny_weights, "--segment-frames", "8", "--resume"]
    reference = tmp_path / "ref.mkv"
    assert interpolate([clip, reference, "--factor", "8", "--codec", "ffv1"], tiny_weights) == 0
    out = tmp_path / "out.mkv"
    journal = tmp_path / "out.mkv.rrin-parts" / "journal.json"
    child = run_cli(clip, out, *common)
    interrupt_after(child, journal, 1, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists()
    killed_at = segments_done(journal)
    assert 1 <= killed_at < 7
    child = run_cli(clip, out, *common)  # resume, then Ctrl-C
    interrupt_after(child, journal, killed_at + 1, signal.SIGINT)
    assert child.returncode == 130, child.stderr.read().decode()
    assert child.stderr.read().decode().strip() == "rrin: interrupted"
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    interrupted_at = segments_done(journal)
    assert killed_at < interrupted_at < 7
    names = {s["file"] for s in json.loads(journal.read_text())["segments"]} | {"journal.json"}
    assert {p.name for p in journal.parent.iterdir()} == names  # the unfinished segment is gone
    resumed = run_cli(clip, out, *common)
    assert resumed.wait() == 0, resumed.stderr.read().decode()
    assert not journal.parent.exists()
    frames, times = decoded(out)
    ref_frames, ref_times = decoded(reference)
    assert len(frames) == 7 * 8 + 1 and times == ref_times
    assert all(np.array_equal(a, b) for a, b in zip(frames, ref_frames))
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def write_text(path: Path, text: str = "not a video") -> Path:
    path.write_text(text)
    return path


def audio_only(path: Path) -> Path:
    out = av.open(str(path), "w")
    stream = out.add_stream("pcm_s16le", rate=8000)
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
    frame.sample_rate, frame.pts = 8000, 0
    for packet in [*stream.encode(frame), *stream.encode(None)]:
        out.mux(packet)
    out.close()
    return path


def mixed_sizes(folder: Path) -> Path:
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), pattern(0))
    cv2.imwrite(str(folder / "2.png"), pattern(1)[:40])
    return folder


BAD = {
    "missing": (lambda d: d / "nope.mp4", [], "does not exist"),
    "not a video": (lambda d: write_text(d / "text.mp4"), [], "not a readable video"),
    "no video stream": (lambda d: audio_only(d / "sound.mkv"), [], "no video stream"),
    "one frame": (lambda d: make_clip(d / "one.mkv", n=1, codec="ffv1"), [], "at least 2"),
    "mixed sizes": (lambda d: mixed_sizes(d / "mixed"), [], "all frames must have one size"),
    "factor 1": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--factor", "1"], "at least 2"),
    "fps 0": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--fps", "0"], "positive"),
    "fps below input": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--fps", "10"], "below the input"),
    "unknown extension": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["OUT=out.xyz"], "unknown output extension"),
    "output exists": (lambda d: (write_text(d / "b.mp4"), make_clip(d / "a.mkv", n=3, codec="ffv1"))[1],
                      ["OUT=b.mp4"], "--overwrite"),
    "output is the input": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["OUT=a.mkv", "--overwrite"], "is the input"),
    "output folder holds the input": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["OUT=.", "--overwrite"],
                                      "contains the input"),
    "frame folder onto itself": (lambda d: frame_folder(d / "frames", 3), ["OUT=frames", "--overwrite"], "is the input"),
    "output folder is a file": (lambda d: (write_text(d / "out"), make_clip(d / "a.mkv", n=3, codec="ffv1"))[1],
                                ["OUT=out", "--overwrite"], "is a file, not a frame folder"),
    "factor 65": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--factor", "65"], "at most 64"),
    "fps 1e9": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--fps", "1e9"], "at most 1000"),
    "fps over 64x": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1", rate=12), ["--fps", "800"], "more than 64 times"),
    "input fps on a video": (lambda d: make_clip(d / "a.mkv", n=3, codec="ffv1"), ["--input-fps", "30"], "frame folders"),
    "input fps 0": (lambda d: frame_folder(d / "frames", 3), ["--input-fps", "0"], "positive"),
}


def frame_folder(folder: Path, count: int) -> Path:
    folder.mkdir()
    for k in range(count):
        cv2.imwrite(str(folder / f"{k + 1}.png"), pattern(2 * k)[:, :, ::-1])
    return folder


def test_frame_folder_at_a_given_rate(tmp_path, tiny_weights):
    """A folder has no timestamps: --input-fps names its rate (default 25)."""
    folder = frame_folder(tmp_path / "frames", 3)
    assert interpolate([folder, tmp_path / "a.mkv", "--input-fps", "12", "--fps", "24", "--codec", "ffv1"], tiny_weights) == 0
    frames, times = decoded(tmp_path / "a.mkv")
    assert len(frames) == 5 and np.allclose([float(t) for t in times], [m / 24 for m in range(5)], atol=1e-3)  # mkv: ms
    assert interpolate([folder, tmp_path / "b.mkv", "--factor", "2", "--codec", "ffv1"], tiny_weights) == 0
    assert np.allclose([float(t) for t in decoded(tmp_path / "b.mkv")[1]], [m / 50 for m in range(5)], atol=1e-3)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_are_one_line_errors(tmp_path, tiny_weights, capsys, case):
    make, extra, message = BAD[case]
    source = make(tmp_path)
    output = tmp_path / "out.mp4"
    for item in extra:
        if item.startswith("OUT="):
            output = tmp_path / item[4:]
    extra = [item for item in extra if not item.startswith("OUT=")]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert interpolate([source, output, *extra], tiny_weights) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(("rrin: error:", "rrin interpolate: error:")) and message in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_truncated_video_converts_what_decodes(tmp_path, tiny_weights, capsys):
    clip = make_clip(tmp_path / "full.mkv", n=12, codec="ffv1", pix_fmt="yuv444p")
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    out = tmp_path / "out.mkv"
    assert interpolate([cut, out, "--factor", "2", "--codec", "ffv1"], tiny_weights) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stopped after frame" in err[0]
    frames, _ = decoded(out)
    assert 3 <= len(frames) < 23 and len(frames) % 2 == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_output_folder(tmp_path, tiny_weights, capsys):
    clip = make_clip(tmp_path / "a.mkv", n=3, codec="ffv1")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert interpolate([clip, locked / "out.mp4"], tiny_weights) == 2
        assert "not writable" in capsys.readouterr().err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_overwrite_replaces_a_folders_frames_only(tmp_path, synthesis_weights):
    """--overwrite used to delete the whole output folder; now it replaces the frames rrin
    writes there (and drops those of an earlier, longer run), nothing else."""
    clip = make_clip(tmp_path / "a.mkv", n=5, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "frames"
    assert interpolate([clip, out, "--factor", "4"], synthesis_weights) == 0
    assert len(list(out.iterdir())) == 17
    (out / "notes.txt").write_text("mine")
    (out / "cover.png").write_bytes(b"not a frame")
    (out / "sub").mkdir()
    assert interpolate([clip, out, "--factor", "2"], synthesis_weights) == 2  # exists: refused
    assert interpolate([clip, out, "--factor", "2", "--overwrite"], synthesis_weights) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{m:06d}.png" for m in range(9)] + ["cover.png", "notes.txt", "sub"]
    assert (out / "notes.txt").read_text() == "mine" and (out / "cover.png").read_bytes() == b"not a frame"
    source, _ = decoded(clip)
    assert np.array_equal(cv2.imread(str(out / "000008.png"))[:, :, ::-1], source[4])
    assert not list(tmp_path.glob(".frames*"))


def test_a_cover_picture_track_before_the_video_is_not_the_video(tmp_path, synthesis_weights):
    """An MKV whose first video track is a one-frame MJPEG cover: the reader takes the real
    video (FFmpeg's best stream), and the conversion makes (10 − 1)·2 + 1 frames of it."""
    path = tmp_path / "cover.mkv"
    with av.open(str(path), "w") as out:
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        video = out.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 56, 40, "yuv420p"
        picture = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, np.uint8), format="rgb24")
        for packet in [*cover.encode(picture.reformat(format="yuvj420p")), *cover.encode()]:
            out.mux(packet)
        for shift in range(10):
            frame = av.VideoFrame.from_ndarray(moving_square(shift=shift), format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    with av.open(str(path)) as probe:
        assert probe.streams.video[0].codec_context.name == "mjpeg"  # the trap is set
    with VideoReader(path) as reader:
        assert (reader.width, reader.height) == (56, 40)
        assert len(list(reader)) == 10
    output = tmp_path / "out.mp4"
    assert main(["interpolate", str(path), str(output), "--factor", "2", "--model", str(synthesis_weights), "-q"]) == 0
    with av.open(str(output)) as result:
        assert result.streams.video[0].frames == 19
