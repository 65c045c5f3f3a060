"""Errors a user can cause and fix: the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

__all__ = ["RRINError", "InputError", "CheckpointError", "ConfigError", "NoSpaceError"]


class RRINError(Exception):
    """Base class for every error that is the user's to fix (bad input, bad file, bad option)."""


class InputError(RRINError, ValueError):
    """An input file or argument is missing, unreadable or inconsistent."""


class CheckpointError(RRINError):
    """A weights file is missing, corrupt, or does not fit the RRIN architecture."""


class ConfigError(RRINError, ValueError):
    """A configuration has an unknown key or a value of the wrong type or range."""


class NoSpaceError(RRINError, OSError):
    """A write ran out of room: the disk or the quota is full, or a file size limit was hit.

    The message names what was being written; what was finished before stays (see
    ``--resume``)."""
