"""Freed tensor memory goes back to the system, so a long scoring run's memory stays flat.

Why: glibc's malloc raises its mmap threshold each time a large block it mapped is freed
(up to 32 MB). After the first batches, torch's activation tensors on the CPU therefore
come from the heap arenas, where fragmentation keeps freed memory resident: scoring
2,000 segments × 3 systems with BERTScore alone grew to 1.39 GiB of resident memory and
was still growing. With the threshold fixed at 1 MB, each large tensor is mapped and
unmapped on its own, and the same run peaked at 0.84 GiB (bench/growth.py measures whole
runs; docs/speed.md has the figures).

Called by each loader of a torch model; a no-op off glibc (macOS, musl) and where the user
set `MALLOC_MMAP_THRESHOLD_` themselves.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache

#: glibc's mallopt parameter number for the mmap threshold (malloc.h)
M_MMAP_THRESHOLD = -3
#: blocks this large or larger are mapped apart: activations and embeddings of a batch
MMAP_THRESHOLD = 1 << 20
USER_SETTING = "MALLOC_MMAP_THRESHOLD_"


@cache
def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold once per process; True when it was set here."""
    if not sys.platform.startswith("linux") or USER_SETTING in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
