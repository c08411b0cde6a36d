"""Seconds spent on one-time model work (making a float checkpoint from a GGUF,
converting for CTranslate2), so a run can say where its time went.

The work is done once per machine and cached on disk; a run that did it reports it
apart from translation, because a first run and a rerun differ mostly by it. Kept per
process: the files it makes are shared by every engine in the process too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

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
