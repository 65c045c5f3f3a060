"""Keeping freed activation memory in the process instead of handing it back to the OS.

Eager PyTorch allocates every activation anew; glibc serves large blocks with ``mmap`` and
unmaps them on free, so the next frame page-faults the same memory in again (measured at
720p: a quarter of eager's CPU time was kernel time). Telling glibc to serve them from
the heap and not to trim it makes later frames reuse that memory: no faults, no kernel
time. The price: the process keeps its peak memory until it exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory(trim_threshold: int = 1 << 30) -> bool:
    """Set glibc's ``M_MMAP_MAX`` to 0 and ``M_TRIM_THRESHOLD`` to ``trim_threshold`` bytes.

    Affects the whole process (every later allocation); idempotent. Returns whether it was
    applied (``False`` off Linux or without glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    if applied:
        logging.getLogger(__name__).info(
            "memory: freed activations stay in the process for reuse (glibc M_MMAP_MAX=0, M_TRIM_THRESHOLD=%d MiB); "
            "its peak memory is kept until it exits", trim_threshold >> 20)
    return applied
