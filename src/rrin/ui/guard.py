"""Refusing file references in a request that are not uploads of this server.

A request to the page's API names its files as ``{"path": ..., "meta": {"_type":
"gradio.FileData"}}``: whatever path the sender wrote. Gradio itself refuses paths outside its
upload folder, but it fetches web addresses, and its checks are not this project's to rely on
(they changed between versions). :func:`check_request_files` looks at every ``path`` (and
``url``-only reference) in a request's inputs before Gradio opens or copies anything: an
upload of this server passes; anything else, a web address included, is refused.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import InputError
from .workspace import Workspace

__all__ = ["check_request_files", "NOT_AN_UPLOAD"]

NOT_AN_UPLOAD = "Only files uploaded to this page can be used: upload the file, then try again."
_TOO_DEEP = object()


def _references(value: Any, depth: int = 0) -> Iterator[Any]:
    """Every ``path`` value of the dictionaries nested in ``value`` (and the ``url`` of
    those without a path)."""
    if depth > 32:  # nobody sends this deep a value: refuse rather than recurse forever
        yield _TOO_DEEP
        return
    if isinstance(value, dict):
        if "path" in value:
            yield value["path"]
        elif "url" in value:
            yield value["url"]
        for item in value.values():
            if isinstance(item, (dict, list, tuple)):
                yield from _references(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _references(item, depth + 1)


def check_request_files(inputs: list[Any], workspace: Workspace) -> None:
    """:class:`InputError` (:data:`NOT_AN_UPLOAD`) if any file reference in ``inputs`` (a
    request's input values) is not an upload in ``workspace``; nothing is opened."""
    for reference in _references(inputs):
        if reference is None:
            continue
        if not isinstance(reference, str) or not workspace.is_upload(reference):
            raise InputError(NOT_AN_UPLOAD)
