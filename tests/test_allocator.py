"""The mmap threshold that keeps a long scoring run's memory flat (evalkit.allocator)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from evalkit import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _in_fresh_process(code: str, env: dict[str, str] | None = None) -> str:
    run_env = {k: v for k, v in os.environ.items() if k != allocator.USER_SETTING}
    run_env |= env or {}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=run_env, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
def test_the_threshold_is_set_once_per_process_on_glibc():
    code = "from evalkit.allocator import return_freed_memory as r; print(r(), r())"
    assert _in_fresh_process(code) == "True True"


def test_a_threshold_the_user_chose_is_left_alone():
    code = "from evalkit.allocator import return_freed_memory as r; print(r())"
    assert _in_fresh_process(code, {allocator.USER_SETTING: "131072"}) == "False"


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
def test_a_large_block_freed_after_the_setting_leaves_the_process():
    # glibc alone raises its threshold when a mapped block is freed, so the next block of
    # that size comes from the heap, and once freed it stays resident behind a small block
    code = """
import ctypes
from evalkit.allocator import return_freed_memory
return_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
size = 16 << 20
base = rss()
kept = []
for _ in range(3):
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    kept.append(libc.malloc(4096))  # a small block after it pins the heap's top
    libc.free(block)
print(rss() - base < size // 2)
"""
    assert _in_fresh_process(code) == "True"
