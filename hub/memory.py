"""The allocator setting that keeps a burst of large payloads from staying in the hub's RSS."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter for the size above which a block gets its own mapping."""
MMAP_THRESHOLD = 128 * 1024


def keep_large_buffers_mapped(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold (on Linux); True if it was set.

    glibc raises the threshold each time a mapped block is freed, up to 32 MiB, so after
    the first large payloads (a few hundred KiB) the next ones come from the heap, and a
    burst of them leaves the heap grown for good: measured, a hub went from 78 to 170 MiB
    after one burst of fuzz and stayed there. A fixed threshold maps and unmaps every large
    buffer (97 MiB after the same burst); small objects are not concerned.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    if not done:
        logger.debug("mallopt(M_MMAP_THRESHOLD, %d) refused", threshold)
    return done


__all__ = ["keep_large_buffers_mapped"]
