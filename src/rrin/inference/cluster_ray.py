"""Connecting to Ray for ``rrin interpolate --cluster``, and saying in one line what failed.

Ray is optional (``pip install "rrin[cluster]"``): it is imported here, only when a job asks
for a cluster. Every way of not getting one (Ray missing, a malformed address, nothing
listening there, ``ray.init`` failing) becomes an :class:`~rrin.errors.InputError`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from typing import Iterator

from ..errors import InputError, RRINError

__all__ = ["connect", "failure_cause", "CONNECT_TIMEOUT"]

#: Seconds to wait for a TCP connection to the cluster's address before giving up.
CONNECT_TIMEOUT = 5.0


def _import_ray(address: str):
    if address == "local":  # a local instance serves this machine only: bind to loopback
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise InputError('--cluster needs Ray, which is not installed: pip install "rrin[cluster]"') from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """The TCP endpoint behind ``address``, when it can be told without connecting."""
    text = address[len("ray://"):] if address.startswith("ray://") else address
    if text == "auto":
        text = os.environ.get("RAY_ADDRESS", "")
        if not text:
            try:  # the address `ray start` recorded on this machine (private API: best effort)
                from ray._private.services import canonicalize_bootstrap_address

                text = canonicalize_bootstrap_address("auto") or ""
            except Exception:  # noqa: BLE001 - ray.init reports what is wrong
                return None
        text = text[len("ray://"):] if text.startswith("ray://") else text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--cluster {address!r} is not a Ray address: use auto, local, HOST:PORT or ray://HOST:PORT")
    return host.strip("[]"), int(port)


@contextlib.contextmanager
def connect(address: str) -> Iterator:
    """Connect to the Ray cluster at ``address`` for the duration of the block (yields ``ray``).

    If this process is already connected to Ray (an application embedding rrin, the tests),
    that connection is used and left open. A bad address, an unreachable cluster or Ray not
    being installed raise :class:`InputError`. Token authentication is Ray's default and is
    left as Ray configures it.
    """
    ray = _import_ray(address)
    endpoint = None if address == "local" else _host_port(address)
    if endpoint is not None:  # fail in seconds, where ray.init would retry for minutes
        try:
            socket.create_connection(endpoint, timeout=CONNECT_TIMEOUT).close()
        except OSError as exc:
            raise InputError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None
    if ray.is_initialized():
        yield ray
        return
    options: dict = {"address": address, "log_to_driver": False, "logging_level": "ERROR"}
    if address == "local":
        options["include_dashboard"] = False
    in_main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if in_main else None
    try:
        ray.init(**options)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - ray raises many types, even SystemExit
        raise InputError(f"cannot connect to the Ray cluster at {address}: {_first_line(exc)}") from None
    finally:
        if sigterm is not None:  # ray.init installs its own (sys.exit): the caller's stays (the CLI's: as Ctrl-C)
            signal.signal(signal.SIGTERM, sigterm)
    try:
        yield ray
    finally:
        ray.shutdown()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def failure_cause(exc: BaseException, retries: int) -> str:
    """One line for why a Ray call failed: the worker's own exception when there is one
    (``retries``: how often Ray restarted a worker that died)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, RRINError):
        return str(cause)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {_first_line(cause)}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines  # e.g. "ModuleNotFoundError: No module named 'rrin'"
              if ":" in line and " " not in line.split(":", 1)[0] and line.split(":", 1)[0].endswith(("Error", "Exception"))
              and not line.startswith("ray.exceptions.")]
    if errors and "No module named 'rrin" in errors[-1]:
        return f"{errors[-1]}: install the same rrin on every node (docs/cluster.md)"
    if type(exc).__name__ in ("ActorDiedError", "RayActorError", "WorkerCrashedError", "ActorUnavailableError"):
        return f"its worker process died, also after {retries} restarts ({lines[0] if lines else type(exc).__name__})"
    return errors[-1] if errors else (lines[0] if lines else type(exc).__name__)
