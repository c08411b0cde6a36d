"""Freed tensor memory goes back to the system, so a long scoring run's memory stays flat.

Why: glibc's malloc raises its mmap threshold each time a large block it mapped is freed
(up to 32 MB), so after the first batches torch's activation tensors on the CPU come from
the heap, among the small tensors a metric keeps (a text's token embeddings). Freed, they
leave holes that stay resident: BERTScore alone on 1,500 segments × 3 systems reached
1.33 GiB of resident memory, and the neural metrics of a run added up instead of taking
turns. Handing the heap's free pages back after each batch (`malloc_trim`) brought that
run to 0.94 GiB for about 5% of its time.

Fixing the mmap threshold instead (1 MB) kept the same run at 0.84 GiB but made it 23%
slower, and the e5 encoder 12% slower: every batch's activations were then fresh pages
the kernel had to zero. Measured with /proc's resident set on this machine's 2 cores;
bench/growth.py measures whole runs (docs/speed.md).
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from typing import Any


@cache
def _glibc() -> Any | None:
    """glibc, or None where malloc is another (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    """Return the heap's free pages to the system; called by the torch encoders after
    each batch (a few milliseconds against a batch's second or so)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
