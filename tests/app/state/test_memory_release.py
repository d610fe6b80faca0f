"""release_freed_memory (rnnviz.app.state.memory): glibc's malloc_trim after a network change."""
from __future__ import annotations

import ctypes
import ctypes.util

import pytest

from rnnviz.app.state.memory import CAN_RELEASE, release_freed_memory


@pytest.mark.skipif(not CAN_RELEASE, reason="no glibc malloc_trim on this platform")
def test_freed_holes_in_the_heap_are_given_back() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(64 * 1024) for _ in range(200)]  # below the mmap threshold: in the heap
    for p in blocks[::2]:  # free every second one: holes the heap keeps (not at its top)
        libc.free(p)
    assert release_freed_memory() is True  # whole free pages inside the heap went back
    for p in blocks[1::2]:
        libc.free(p)

