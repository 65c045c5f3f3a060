"""Training data: make-dataset on real encoded videos, every reader, synthetic exactness,
augmentations and their flow/time bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from rrin.cli import main
from rrin.data.augment import Sample, augment, hflip, permute_channels, random_crop, reverse, rot90, vflip
from rrin.data.folder import FolderClips
from rrin.data.make_dataset import MakeDatasetOptions, make_dataset
from rrin.data.manifest import ManifestClips
from rrin.data.samples import TrainingSamples, ValidationSamples, pick_frames
from rrin.data.synthetic import Layer, SyntheticClips, affine_at, render
from rrin.data.vimeo90k import VimeoClips
from rrin.errors import InputError
from rrin.train.config import AugmentSection


def texture(seed: int, height: int, width: int) -> np.ndarray:
    """Full-contrast smooth random RGB pattern (uint8)."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    image = cv2.resize(coarse, (width + 16, height + 16), interpolation=cv2.INTER_CUBIC)
    image = (image - image.min()) / (image.max() - image.min())
    return (image * 255).round().astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        stream.options = {"crf": "4"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def pan(tex: np.ndarray, index: int, height: int = 48, width: int = 64) -> np.ndarray:
    return tex[4:4 + height, 2 * index:2 * index + width]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> tuple[Path, Path]:
    """Video a: 16 panning frames, a scene cut at frame 16, 11 panning frames, 6 static ones.
    Video b: 18 panning frames of another texture."""
    folder = tmp_path_factory.mktemp("videos")
    tex1, tex2, tex3 = texture(1, 64, 160), texture(2, 64, 160), texture(3, 64, 160)
    frames = [pan(tex1, i) for i in range(16)] + [pan(tex2, i) for i in range(11)] + [pan(tex2, 10)] * 6
    return write_video(folder / "a.mp4", frames), write_video(folder / "b.mp4", [pan(tex3, i) for i in range(18)])


def test_make_dataset_skips_cuts_and_static_clips(videos, tmp_path):
    out = tmp_path / "ds"
    manifest = make_dataset([videos[0]], out, MakeDatasetOptions(size=(32, 24), segment_frames=12, val_fraction=0.5))
    # starts 0, 3, …, 30; 15 spans the cut (frames 15, 16, 17); 27 and 30 are static
    assert manifest["sources"]["a"]["skipped"] == {"scene cut": 1, "static": 2, "boundary": 0}
    starts = sorted(c["start"] for c in manifest["clips"])
    assert starts == [0, 3, 6, 9, 12, 18, 21, 24]
    splits = {c["start"]: c["split"] for c in manifest["clips"]}
    assert [splits[s] for s in starts] == ["train"] * 4 + ["val"] * 3 + ["train"]  # segment 1 = frames 12–23
    clips = ManifestClips(out, "train")
    assert len(clips) == 5 and clips.clip_length == 3
    frames = clips.clip(0).frames
    assert all(f.shape == (24, 32, 3) and f.dtype == np.uint8 for f in frames)
    assert len(ManifestClips(out, "val")) == 3


def test_make_dataset_splits_by_video_resumes_and_refuses_overwrite(videos, tmp_path, capsys):
    out = tmp_path / "ds"
    options = MakeDatasetOptions(frame_step=2, val_fraction=0.5, flow=True)
    make_dataset([videos[0], videos[1]], out, options)
    first = (out / "clips" / "a" / "000000.npy").stat().st_mtime_ns
    with pytest.raises(InputError, match="already exists"):
        make_dataset([videos[0], videos[1]], out, options)
    # an interruption while cutting b: the manifest lists a only
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["clips"] = [c for c in manifest["clips"] if c["source"] == "a"]
    del manifest["sources"]["b"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    manifest = make_dataset([videos[0], videos[1]], out, options, resume=True)
    assert (out / "clips" / "a" / "000000.npy").stat().st_mtime_ns == first  # finished source not redone
    assert set(manifest["sources"]) == {"a", "b"}
    # two sources: one whole video is validation, the other training
    by_source = {s: {c["split"] for c in manifest["clips"] if c["source"] == s} for s in ("a", "b")}
    assert sorted(map(tuple, by_source.values())) == [("train",), ("val",)]
    clip = ManifestClips(out, "all").clip(0)
    assert clip.flow.shape == (4, 48, 64)
    # the pan moves 2 px/frame to the left in the image, frame_step 2 → first to last = 8 px
    assert np.median(clip.flow[0]) == pytest.approx(-8, abs=0.5) and np.median(clip.flow[2]) == pytest.approx(8, abs=0.5)
    with pytest.raises(InputError, match="different options"):
        make_dataset([videos[0], videos[1]], out, MakeDatasetOptions(), resume=True)
    with pytest.raises(InputError, match="inputs"):
        make_dataset([videos[0]], out, options, resume=True)
    assert main(["make-dataset", str(videos[0]), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_one_short_clip_warns_that_it_has_no_validation_split(videos, tmp_path, capsys):
    """One 18-frame video split by 600-frame segments has no validation clips: make-dataset
    says what to change, and so does train when given the dataset anyway."""
    out = tmp_path / "ds"
    assert main(["make-dataset", str(videos[1]), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "6 training and 0 validation clips" in captured.out
    warning = [line for line in captured.err.splitlines() if line.startswith("rrin: warning:")]
    assert len(warning) == 1 and "no validation clips" in warning[0]
    assert "--segment-frames 3 --val-fraction 0.167" in warning[0]  # 18 frames: six 3-frame segments
    config = tmp_path / "c.toml"
    config.write_text(f'[data]\npath = {json.dumps(str(out))}\n[model]\npreset = "lite"\n')
    assert main(["train", "--config", str(config), "--run", str(tmp_path / "run"), "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "has no val clips" in error and "--segment-frames 3" in error
    assert not (tmp_path / "run").exists()
    # the fix it names works
    assert main(["make-dataset", str(videos[1]), "--out", str(out), "--overwrite",
                 "--segment-frames", "3", "--val-fraction", "0.167"]) == 0
    assert "rrin: warning" not in capsys.readouterr().err
    assert len(ManifestClips(out, "val")) >= 1
    # --split sources on one source: the warning names --split
    assert main(["make-dataset", str(videos[1]), "--out", str(out), "--overwrite", "--split", "sources"]) == 0
    assert "--split segments" in capsys.readouterr().err


def test_make_dataset_septuplets_and_bad_inputs(videos, tmp_path):
    manifest = make_dataset([videos[1]], tmp_path / "sep", MakeDatasetOptions(clip_length=7, val_fraction=0))
    assert len(manifest["clips"]) == 2 and all(c["split"] == "train" for c in manifest["clips"])
    assert ManifestClips(tmp_path / "sep").clip(0).frames.__len__() == 7
    with pytest.raises(InputError, match="does not exist"):
        make_dataset([tmp_path / "missing.mp4"], tmp_path / "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no videos"):
        make_dataset([tmp_path / "empty"], tmp_path / "y")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(InputError, match="not a readable video"):
        make_dataset([tmp_path / "junk.mp4"], tmp_path / "z")
    with pytest.raises(InputError, match="no manifest.json"):
        ManifestClips(tmp_path / "empty")


def _frame(value: int, size=(16, 24)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image[:, :, ::-1])


@pytest.mark.parametrize("septuplet", [False, True])
def test_vimeo_reader(tmp_path, septuplet):
    count, prefix = (7, "sep") if septuplet else (3, "tri")
    root = tmp_path / ("vimeo_septuplet" if septuplet else "vimeo_triplet")
    for number, sequence in enumerate(["00001/0001", "00001/0002", "00002/0001"]):
        for i in range(1, count + 1):
            _write_png(root / "sequences" / sequence / f"im{i}.png", _frame(10 * number + i))
    (root / f"{prefix}_trainlist.txt").write_text("00001/0001\n00002/0001\n")
    (root / f"{prefix}_testlist.txt").write_text("00001/0002\n")
    train, test = VimeoClips(root, "train", septuplet=septuplet), VimeoClips(root, "val", septuplet=septuplet)
    assert (len(train), len(test), train.clip_length) == (2, 1, count)
    assert [f[0, 0, 0] for f in train.clip(1).frames] == [20 + i for i in range(1, count + 1)]
    assert test.clip(0).frames[0][0, 0, 0] == 11
    if septuplet:  # multi-t: frame k of 0..6 at t = k/6
        rng = np.random.default_rng(0)
        seen = set()
        for _ in range(40):
            frames, t = pick_frames(train.clip(0).frames, train, 0, True, rng)
            k = frames[1][0, 0, 0] - 1
            assert t == pytest.approx(k / 6) and 1 <= k <= 5
            assert (frames[0][0, 0, 0], frames[2][0, 0, 0]) == (1, 7)
            seen.add(int(k))
        assert seen == {1, 2, 3, 4, 5}
        assert pick_frames(train.clip(0).frames, train, 0, False, rng)[1] == 0.5
        # random span: any ordered three frames 2..6 apart, t the middle one's place between them
        spans = set()
        for _ in range(200):
            frames, t = pick_frames(train.clip(0).frames, train, 0, True, rng, random_span=True)
            first, middle, last = (int(f[0, 0, 0]) for f in frames)
            assert 1 <= first < middle < last <= 7 and t == pytest.approx((middle - first) / (last - first))
            spans.add(last - first)
        assert spans == {2, 3, 4, 5, 6}
    # bad inputs: a frame of another size, an unreadable frame, a missing list
    _write_png(root / "sequences" / "00002/0001" / "im2.png", _frame(0, (20, 24)))
    with pytest.raises(InputError, match="differ in size"):
        train.clip(1)
    (root / "sequences" / "00002/0001" / "im2.png").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable image"):
        train.clip(1)
    with pytest.raises(InputError, match="tri_trainlist.txt" if not septuplet else "sep_trainlist.txt"):
        VimeoClips(tmp_path, "train", septuplet=septuplet)


def test_folder_reader(tmp_path):
    for i in range(10):
        _write_png(tmp_path / "seq" / f"f{i}.png", _frame(i))
    clips = FolderClips(tmp_path / "seq", "all")
    assert [[int(f[0, 0, 0]) for f in clips.clip(i).frames] for i in range(len(clips))] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    train, val = FolderClips(tmp_path / "seq", "train", val_every=3), FolderClips(tmp_path / "seq", "val", val_every=3)
    assert (len(train), len(val), int(val.clip(0).frames[0][0, 0, 0])) == (2, 1, 6)
    (tmp_path / "none").mkdir()
    with pytest.raises(InputError):
        FolderClips(tmp_path / "none")


def test_synthetic_background_matches_analytic_shift():
    tex = texture(5, 96, 96).astype(np.float32) / 255
    for t, shift in ((0.5, (4.0, 0.0)), (0.25, (8.0, -4.0))):
        layer = Layer(tex, None, center=(31.5, 31.5), shift=shift)
        frame0, frame_t = render([layer], 0.0, (64, 64)), render([layer], t, (64, 64))
        dx, dy = int(shift[0] * t), int(shift[1] * t)
        # the frame at t is frame 0 moved by t·shift, exactly (integer offsets, bilinear)
        expected = np.roll(frame0, (dy, dx), axis=(0, 1))
        np.testing.assert_allclose(frame_t[8:-8, 8:-8], expected[8:-8, 8:-8], atol=1e-6)


def test_synthetic_foreground_moves_over_background():
    background = Layer(np.zeros((80, 80, 3), np.float32), None, (31.5, 31.5), (0.0, 0.0))
    piece = np.ones((16, 16, 3), np.float32) * np.array([1.0, 0.5, 0.25], np.float32)
    alpha = np.zeros((16, 16), np.float32)
    alpha[2:14, 2:14] = 1
    layer = Layer(piece, alpha, (20.0, 20.0), (8.0, 4.0))
    frame0, frame_t = render([background, layer], 0.0, (64, 64)), render([background, layer], 0.5, (64, 64))
    np.testing.assert_allclose(frame_t, np.roll(frame0, (2, 4), axis=(0, 1)), atol=1e-6)
    assert frame0[20, 20, 0] == 1.0 and frame0[40, 40, 0] == 0.0


def test_synthetic_clips_are_deterministic(tmp_path):
    for i in range(3):
        _write_png(tmp_path / "photos" / f"p{i}.png", texture(10 + i, 120, 160))
    a = SyntheticClips(tmp_path / "photos", size=48, seed=3, multi_t=True)
    b = SyntheticClips(tmp_path / "photos", size=48, seed=3, multi_t=True)
    c = SyntheticClips(tmp_path / "photos", size=48, seed=4, multi_t=True)
    for i in range(3):
        fa, fb = a.clip(i).frames, b.clip(i).frames
        assert all(np.array_equal(x, y) for x, y in zip(fa, fb)) and fa[0].shape == (48, 48, 3)
        layers, t = a.layers_for(i)
        assert a.time_of(i) == t and 0.1 <= t <= 0.9
        rendered = np.clip(render(layers, t, (48, 48)) * 255 + 0.5, 0, 255).astype(np.uint8)
        assert np.array_equal(rendered, fa[1])  # the middle frame is the scene rendered at t
    assert not np.array_equal(a.clip(0).frames[0], c.clip(0).frames[0])
    (tmp_path / "no_photos").mkdir()
    with pytest.raises(InputError, match="no photos"):
        SyntheticClips(tmp_path / "no_photos", size=48)


def test_synthetic_flow_is_exact():
    """render_flow: a translating background has constant flow; a rotating, scaling layer
    on top carries its own flow, and warping frame 1 by flow_01 rebuilds frame 0 wherever
    nothing is occluded."""
    from rrin.data.synthetic import render_flow
    from rrin.model.warp import backward_warp

    tex = texture(5, 160, 160).astype(np.float32) / 255
    background = Layer(tex, None, (47.5, 47.5), (6.0, -3.0))
    np.testing.assert_allclose(render_flow([background], 0.0, 1.0, (96, 96)), np.broadcast_to(np.array([6.0, -3.0], np.float32).reshape(2, 1, 1), (2, 96, 96)), atol=1e-4)
    np.testing.assert_allclose(render_flow([background], 1.0, 0.0, (96, 96))[:, 5, 7], [-6.0, 3.0], atol=1e-4)
    piece = texture(6, 40, 40).astype(np.float32) / 255
    alpha = np.ones((40, 40), np.float32)
    layer = Layer(piece, alpha, (40.0, 50.0), (10.0, 5.0), angle=0.1, scale=1.08)
    layers, size = [background, layer], (96, 96)
    flow = render_flow(layers, 0.0, 1.0, size)
    np.testing.assert_allclose(flow[:, 50, 40], layer.shift, atol=1e-3)  # the centre moves by the shift
    assert abs(flow[0, 10, 90] - 6.0) < 1e-4  # outside the layer: background motion
    frame0, frame1 = render(layers, 0.0, size), render(layers, 1.0, size)
    to_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]
    rebuilt = backward_warp(to_tensor(frame1), torch.from_numpy(flow)[None], False)[0].permute(1, 2, 0).numpy()
    alpha1 = cv2.warpAffine(alpha, affine_at(layer, 1.0), size)
    landing = backward_warp(torch.from_numpy(alpha1)[None, None], torch.from_numpy(flow)[None], False)[0, 0].numpy()
    on_layer = cv2.warpAffine(alpha, affine_at(layer, 0.0), size) > 0.99
    visible = np.zeros(size, bool)
    visible[8:-8, 8:-8] = True
    visible &= on_layer | (landing < 0.01)  # layer pixels, or background pixels not covered at t = 1
    error = np.abs(rebuilt - frame0).max(axis=2)[visible]
    assert visible.sum() > 3000 and np.median(error) < 0.02 and np.mean(error < 0.05) > 0.97


def test_synthetic_clips_carry_exact_flow(tmp_path):
    for i in range(2):
        _write_png(tmp_path / "photos" / f"p{i}.png", texture(10 + i, 120, 160))
    clips = SyntheticClips(tmp_path / "photos", size=48, seed=3)
    clip = clips.clip(1)
    layers, _ = clips.layers_for(1)
    assert clip.flow.shape == (4, 48, 48) and clip.flow.dtype == np.float32
    from rrin.data.synthetic import render_flow
    np.testing.assert_array_equal(clip.flow[2:], render_flow(layers, 1.0, 0.0, (48, 48)))


def shifted_sample(u: int, v: int) -> Sample:
    """Frames of a texture moving (u, v) px from frame 0 to frame 1, exact constant flow."""
    tex = texture(7, 64, 64)
    frame0 = tex[16:48, 16:48]
    frame1 = tex[16 - v:48 - v, 16 - u:48 - u]  # frame0(x, y) = frame1(x + u, y + v)
    middle = tex[16 - v // 2:48 - v // 2, 16 - u // 2:48 - u // 2]
    flow = np.zeros((4, 32, 32), np.float32)
    flow[0], flow[1], flow[2], flow[3] = u, v, -u, -v
    return Sample([frame0, middle, frame1], 0.5, flow)


def assert_consistent(sample: Sample) -> None:
    """frame0(x, y) == frame1(x + u, y + v) for the (constant) flow_01, and flow_10 = −flow_01."""
    u, v = int(sample.flow[0, 0, 0]), int(sample.flow[1, 0, 0])
    assert np.all(sample.flow[0] == u) and np.all(sample.flow[1] == v)
    np.testing.assert_array_equal(sample.flow[2:4], -sample.flow[0:2])
    f0, f1 = sample.frames[0].astype(int), sample.frames[2].astype(int)
    h, w = f0.shape[:2]
    ys, xs = slice(max(0, -v), min(h, h - v)), slice(max(0, -u), min(w, w - u))
    ys1, xs1 = slice(ys.start + v, ys.stop + v), slice(xs.start + u, xs.stop + u)
    np.testing.assert_array_equal(f0[ys, xs], f1[ys1, xs1])


def test_augmentations_move_flow_with_pixels():
    base = shifted_sample(4, -2)
    assert_consistent(base)
    flipped = hflip(base)
    assert_consistent(flipped)
    assert (flipped.flow[0, 0, 0], flipped.flow[1, 0, 0]) == (-4, -2)
    np.testing.assert_array_equal(flipped.frames[1], base.frames[1][:, ::-1])
    flipped = vflip(base)
    assert_consistent(flipped)
    assert (flipped.flow[0, 0, 0], flipped.flow[1, 0, 0]) == (4, 2)
    for k in (1, 2, 3):
        turned = rot90(base, k)
        assert_consistent(turned)
        np.testing.assert_array_equal(turned.frames[0], np.rot90(base.frames[0], k))
    assert (rot90(base, 1).flow[0, 0, 0], rot90(base, 1).flow[1, 0, 0]) == (-2, -4)


def test_reverse_swaps_frames_flows_and_time():
    base = shifted_sample(4, 2)
    base.t = 0.25
    back = reverse(base)
    assert back.t == 0.75
    assert back.frames[0] is base.frames[2] and back.frames[2] is base.frames[0] and back.frames[1] is base.frames[1]
    np.testing.assert_array_equal(back.flow[0:2], base.flow[2:4])
    assert_consistent(back)
    assert reverse(back).t == 0.25


def test_crop_and_channel_order():
    base = shifted_sample(2, 2)
    rng = np.random.default_rng(0)
    crop = random_crop(base, 16, rng)
    assert all(f.shape == (16, 16, 3) for f in crop.frames) and crop.flow.shape == (4, 16, 16)
    assert_consistent(crop)
    swapped = permute_channels(base, np.array([2, 0, 1]))
    for before, after in zip(base.frames, swapped.frames):
        np.testing.assert_array_equal(after[..., 0], before[..., 2])
        np.testing.assert_array_equal(after[..., 1], before[..., 0])


def test_augment_switches_and_determinism():
    base = shifted_sample(2, 2)
    off = AugmentSection(crop=0, hflip=False, vflip=False, reverse=False, channels=False, rot90=False)
    same = augment(base, off, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(same.frames, base.frames)) and same.t == 0.5
    on = AugmentSection(crop=24, rot90=True)
    times = set()
    for seed in range(12):
        a = augment(shifted_sample(2, 2), on, np.random.default_rng(seed))
        b = augment(shifted_sample(2, 2), on, np.random.default_rng(seed))
        assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames))
        assert a.frames[0].shape == (24, 24, 3)
        times.add(a.t)
    only_reverse = AugmentSection(crop=0, hflip=False, vflip=False, reverse=True, channels=False)
    for seed in range(12):
        sample = shifted_sample(2, 2)
        sample.t = 0.25
        out = augment(sample, only_reverse, np.random.default_rng(seed))
        reversed_ = np.array_equal(out.frames[0], sample.frames[2])
        assert out.t == (0.75 if reversed_ else 0.25)
        times.add(out.t)
    assert times >= {0.25, 0.75}


def test_samples_as_tensors(videos, tmp_path):
    out = tmp_path / "ds"
    make_dataset([videos[1]], out, MakeDatasetOptions(val_fraction=0.4, segment_frames=6))
    reader = ManifestClips(out, "train")
    training = TrainingSamples(reader, AugmentSection(crop=32), seed=1, want_flow=True)
    sample = training[(0, 5)]
    assert sample["img0"].shape == (3, 32, 32) and sample["flow"].shape == (4, 32, 32)
    assert float(sample["img0"].max()) <= 1.0 and sample["t"].item() in (0.5,)
    again = training[(0, 5)]
    assert all(np.array_equal(sample[k].numpy(), again[k].numpy()) for k in sample)
    validation = ValidationSamples(ManifestClips(out, "val"), limit=2, crop=16)
    assert len(validation) == 2 and validation[0]["img_t"].shape == (3, 16, 16)
