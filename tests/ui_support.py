"""Fixtures shared by the ``rrin ui`` tests (test_ui.py, test_ui_browser.py): the page served
on a free loopback port with the parameter-free ``dis-synthesis`` model, its files, and a
guard that refuses (and records) every connection and name lookup beyond the loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from pathlib import Path

import av
import pytest

from conftest import moving_square
from rrin.model import RRIN, save_weights
from rrin.model.config import PRESETS
from rrin.ui import UISettings, start
from test_video import make_clip

#: The upload limit the test page runs with.
MAX_UPLOAD_MB = 1


def decode(path: Path) -> tuple[int, list[str]]:
    """(video frames, audio codecs) of the video at ``path``."""
    with av.open(str(path)) as container:
        audio = [stream.codec_context.name for stream in container.streams.audio]
        return sum(1 for _ in container.decode(video=0)), audio


def decode_bytes(data: bytes) -> int:
    """Frames in a video given as bytes."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        return decode(Path(file.name))[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _local(host) -> bool:
    if host in (None, "localhost", "", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="module")
def offline():
    """Refuse and record any connection or lookup of this process beyond the loopback."""
    attempts: list[str] = []
    patch = pytest.MonkeyPatch()
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            attempts.append(f"connect {address}")
            raise OSError("network access refused by the test")

    def guarded_connect(sock, address):
        check(sock, address)
        return connect(sock, address)

    def guarded_connect_ex(sock, address):
        check(sock, address)
        return connect_ex(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _local(host):
            attempts.append(f"lookup {host}")
            raise socket.gaierror("name lookups refused by the test")
        return getaddrinfo(host, *args, **kwargs)

    patch.setattr(socket.socket, "connect", guarded_connect)
    patch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    patch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    patch.undo()
    assert attempts == [], f"the page tried to reach the network: {attempts}"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ui")
    weights = save_weights(RRIN(PRESETS["dis-synthesis"]), root / "dis-synthesis.safetensors")
    share = root / "share"
    share.mkdir()
    make_clip(share / "shared clip.mp4", n=4)
    (root / "outside.mp4").write_bytes((share / "shared clip.mp4").read_bytes())
    (share / "link.mp4").symlink_to(root / "outside.mp4")
    clip = make_clip(root / "clip.mp4", n=6, audio=True)
    corrupt = root / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    big = root / "big.mp4"
    big.write_bytes(os.urandom(MAX_UPLOAD_MB * 1_000_000 + 300_000))
    import cv2

    cv2.imwrite(str(root / "a.png"), moving_square(shift=0))
    cv2.imwrite(str(root / "b.png"), moving_square(shift=4))
    return {"root": root, "weights": Path(weights), "share": share, "clip": clip, "corrupt": corrupt, "big": big,
            "a": root / "a.png", "b": root / "b.png", "downloads": root / "downloads"}


@pytest.fixture(scope="module")
def app(offline, files):
    running = start(UISettings(port=free_port(), model=str(files["weights"]), share_dir=files["share"],
                               max_upload_mb=MAX_UPLOAD_MB))
    yield running
    root = running.workspace.root
    running.close()
    assert not root.exists(), "the private folder outlived the app"
