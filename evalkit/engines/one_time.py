"""One-time model work (making a float checkpoint from a GGUF, converting for
CTranslate2): the seconds it took, so a run can say where its time went, and the lock that
keeps two processes from building, using and removing the same files at once.

The work is done once per machine and cached on disk; a run that did it reports it
apart from translation, because a first run and a rerun differ mostly by it. Kept per
process: the files it makes are shared by every engine in the process too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]

#: the phases, in the order they happen
PHASES = ("prepare", "convert")

_spent: dict[str, float] = {}


@contextmanager
def timed(phase: str) -> Iterator[None]:
    """Count the block's wall-clock seconds towards `phase` (even when it fails)."""
    if phase not in PHASES:
        raise ValueError(f"unknown one-time phase {phase!r}")
    started = time.perf_counter()
    try:
        yield
    finally:
        _spent[phase] = _spent.get(phase, 0.0) + time.perf_counter() - started


def take() -> dict[str, float]:
    """Seconds per phase since the last call, every phase present (0.0 when none)."""
    spent = {phase: _spent.pop(phase, 0.0) for phase in PHASES}
    return spent


@contextmanager
def file_lock(path: Path, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """Hold an advisory lock on `path` (made if missing, never removed: removing a lock
    file lets two processes lock two different files) for the block; yields whether it
    is held, False only with `wait=False` when another holder is in the way.

    Shared holders read the files the lock guards; an exclusive holder builds or removes
    them. The lock belongs to this open of the file, so two threads of one process
    exclude each other too, and the kernel drops it when its process dies (kill -9
    included): a stale lock cannot exist. Where flock does not exist (Windows) nothing
    is locked, and a lock not waited for is never held, so nothing is removed there."""
    if fcntl is None:
        yield wait
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        yield held
    finally:
        os.close(fd)  # releases the lock
