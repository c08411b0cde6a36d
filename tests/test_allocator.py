"""Free heap pages go back to the system after each batch (evalkit.allocator)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

#: a freed block in the middle of the heap (a small block after it pins the heap's top,
#: as a kept tensor does): resident until the free pages are handed back
HOLE = """
import ctypes
from evalkit.allocator import release_free_memory
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
size = 16 << 20
libc.free(libc.malloc(size))  # glibc now takes blocks of this size from the heap
block = libc.malloc(size)
ctypes.memset(block, 1, size)
pin = libc.malloc(4096)
libc.free(block)
held = rss()
RELEASE
print(held - rss() > size // 2)
"""


def _hole_released(release: bool) -> str:
    code = HOLE.replace("RELEASE", "release_free_memory()" if release else "pass")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_a_freed_block_inside_the_heap_leaves_the_process_once_released():
    assert _hole_released(release=False) == "False"  # glibc alone keeps it resident
    assert _hole_released(release=True) == "True"


def test_release_is_harmless_where_malloc_is_not_glibc(monkeypatch):
    from evalkit import allocator

    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    allocator._glibc.cache_clear()
    try:
        assert allocator._glibc() is None
        allocator.release_free_memory()
    finally:
        allocator._glibc.cache_clear()
