"""Handing memory the app has freed back to the operating system.

glibc's malloc keeps freed memory in its heaps for reuse instead of returning it, so after a
network is replaced (the old trace, training records, plot items all freed) the process keeps
its high-water mark: about 13 MB after a long random-use run (issue 13, bench_random_use.py).
`malloc_trim(0)` returns the free pages at the top and inside the heaps; long-running programs
on glibc call it after big releases. Elsewhere (macOS, Windows, musl) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys


def _load_trim():
    """glibc's malloc_trim, or None where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _load_trim()
CAN_RELEASE = _TRIM is not None  # glibc: release_freed_memory really calls malloc_trim


def release_freed_memory() -> bool:
    """Return freed heap memory to the OS where the C library can (glibc); True if some was.
    A few milliseconds for a heap of a few hundred MB: call it after big structural changes,
    not per frame."""
    return bool(_TRIM(0)) if _TRIM is not None else False
