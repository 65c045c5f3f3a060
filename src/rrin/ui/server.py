"""Starting and stopping the page's server (what ``rrin ui`` runs).

:func:`start` makes the private workspace, points Gradio's cache at it, turns Gradio's
analytics and version check off (nothing leaves the machine), builds the page and serves it
on ``host:port`` without share links, behind a password (required beyond the loopback).
:meth:`RunningApp.close` stops the server, deletes the workspace and restores the environment.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["UISettings", "RunningApp", "start", "is_loopback", "DEFAULT_MAX_UPLOAD_MB"]

DEFAULT_MAX_UPLOAD_MB = 2048

#: Set while the app runs: no telemetry, no version check, no Hugging Face Hub calls.
_OFFLINE_ENVIRONMENT = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                        "GRADIO_SHARE": "False"}


@dataclass(frozen=True)
class UISettings:
    """``rrin ui``'s options: where to listen, the model preselected (a shipped name or a
    weights file; None: the default shipped model), the shared folder, the upload limit, the
    inference options and the password (required to listen beyond the loopback)."""

    host: str = "127.0.0.1"
    port: int = 7860
    model: str | None = None
    share_dir: Path | None = None
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    device: str = "auto"
    precision: str = "auto"
    backend: str = "auto"
    password: str | None = None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and 127.0.0.0/8 or ::1 addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class RunningApp:
    """A started page: ``url``, ``blocks`` (the Gradio app), ``runner`` (its
    :class:`~rrin.ui.jobs.JobRunner`), ``workspace`` and ``sessions`` (which tab runs what:
    :class:`~rrin.ui.sessions.Sessions`); :meth:`close` it."""

    def __init__(self, blocks, url: str, runner, sessions, saved_environment: dict[str, str | None]) -> None:
        self.blocks, self.url, self.runner, self.workspace = blocks, url, runner, runner.workspace
        self.sessions = sessions
        self._saved = saved_environment

    def close(self) -> None:
        """Stop serving, delete the private folder (uploads, results) and restore the
        environment variables :func:`start` set."""
        try:
            self.blocks.close(verbose=False)
        finally:
            self.workspace.remove()
            _restore(self._saved)

    def __enter__(self) -> "RunningApp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _hub_offline(saved: dict) -> None:
    """Gradio imports huggingface_hub, which reads HF_HUB_OFFLINE once, on import: if it was
    imported before :func:`start` set the variable, switch it off by hand (undone on close)."""
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None and not hub.HF_HUB_OFFLINE:
        saved[_HUB_FLAG] = hub
        hub.HF_HUB_OFFLINE = True


_HUB_FLAG = "huggingface_hub.constants.HF_HUB_OFFLINE"


def _restore(saved: dict) -> None:
    hub = saved.pop(_HUB_FLAG, None)
    if hub is not None:
        hub.HF_HUB_OFFLINE = False
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _password_check(password: str):
    """Gradio's ``auth``: any user name, this password (compared in constant time)."""
    expected = password.encode()
    return lambda username, given: hmac.compare_digest(str(given or "").encode(), expected)


def start(settings: UISettings) -> RunningApp:
    """Serve the page in background threads; returns once it answers on its URL.

    Raises :class:`InputError` for an unusable host/port/shared folder and
    :class:`~rrin.errors.ConfigError` when Gradio (the ``ui`` extra) is not installed.
    """
    from .jobs import JobRunner
    from .models import ModelChoices
    from .sessions import Sessions
    from .workspace import Workspace

    if not 1 <= settings.port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, got {settings.port}")
    if settings.max_upload_mb < 1:
        raise InputError(f"--max-upload-mb must be at least 1, got {settings.max_upload_mb}")
    if not is_loopback(settings.host) and not settings.password:
        raise InputError(f"listening on {settings.host} lets other computers use the page: give it a password "
                         "(--password-file FILE) or listen on 127.0.0.1")
    if not _port_free(settings.host, settings.port):
        raise InputError(f"cannot listen on {settings.host}:{settings.port}: the port is in use or the address "
                         "is not this machine's (choose another with --port / --host)")
    models = ModelChoices(settings.model)
    if settings.model is not None:
        from ..model.registry import load_model

        load_model(settings.model)  # a bad --model is the command's error, not every job's
    workspace = Workspace(settings.share_dir)
    saved = {name: os.environ.get(name) for name in (*_OFFLINE_ENVIRONMENT, "GRADIO_TEMP_DIR")}
    os.environ.update(_OFFLINE_ENVIRONMENT)
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.cache)
    try:
        try:
            import gradio  # noqa: F401 - after the environment is set
        except ImportError:
            from ..errors import ConfigError

            raise ConfigError("rrin ui needs Gradio: pip install 'rrin[ui]'") from None
        _hub_offline(saved)
        from .app import CSS, build_app, head

        runner = JobRunner(workspace, models, settings.device, settings.precision, settings.backend)
        sessions = Sessions()
        blocks = build_app(runner, settings.max_upload_mb, sessions)
        _, url, _ = blocks.launch(
            server_name=settings.host, server_port=settings.port, share=False, inbrowser=False,
            prevent_thread_lock=True, quiet=True, show_error=False, max_file_size=f"{settings.max_upload_mb}mb",
            allowed_paths=None, blocked_paths=None, ssr_mode=False, mcp_server=False, pwa=False,
            enable_monitoring=False, footer_links=["api", "settings"], css=CSS,
            head=head(settings.max_upload_mb),
            auth=_password_check(settings.password) if settings.password else None,
            auth_message="Enter this page's password (any user name)." if settings.password else None,
        )
    except BaseException:
        workspace.remove()
        _restore(saved)
        raise
    return RunningApp(blocks, url, runner, sessions, saved)
