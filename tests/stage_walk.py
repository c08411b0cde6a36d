"""The walk of a test set through a run, room by room: which functions of an earlier
stage a later stage calls back ("climbs back up"). Methods and properties of a stage's
data (a unit's `references`, a side's `sentences`) are reading that data, not a climb;
a call to a plain function of an earlier stage is one."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType

import evalkit

ROOT = Path(evalkit.__file__).parent

#: the rooms of each stage, in pipeline order; a room is a top-level part of evalkit
STAGES: dict[str, int] = {
    "corpus": 0,  # load and segment
    "translate": 1,
    "engines": 1,
    "align": 2,
    "scoring": 3,
    "metrics": 3,
    "record": 4,
    "report": 5,
}

Climb = tuple[str, str, str]  # (calling module, called module, called function)


def _where(code: CodeType) -> tuple[str, str] | None:
    """(room, module path) of evalkit code; None outside evalkit."""
    try:
        relative = Path(code.co_filename).relative_to(ROOT)
    except ValueError:
        return None
    return relative.with_suffix("").parts[0], relative.as_posix()


def is_climb(caller_room: str, callee_room: str, qualname: str) -> bool:
    """A plain function of an earlier stage's room called from a later one."""
    if caller_room not in STAGES or callee_room not in STAGES or qualname == "<module>":
        return False  # outside the stages, or a module imported late
    is_function = "." not in qualname or "<locals>" in qualname.split(".")[0]
    return is_function and STAGES[callee_room] < STAGES[caller_room]


def walk(action: Callable[[], object]) -> dict[Climb, int]:
    """Run `action` and count each climb back up it makes."""
    found: dict[Climb, int] = {}

    def hear(frame: FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        callee = _where(frame.f_code)
        if callee is None:
            return
        caller_frame = frame.f_back
        while caller_frame is not None and _where(caller_frame.f_code) is None:
            caller_frame = caller_frame.f_back
        if caller_frame is None:
            return
        caller = _where(caller_frame.f_code)
        assert caller is not None
        if caller[0] != callee[0] and is_climb(caller[0], callee[0], frame.f_code.co_qualname):
            key = (caller[1], callee[1], frame.f_code.co_qualname)
            found[key] = found.get(key, 0) + 1

    sys.setprofile(hear)
    try:
        action()
    finally:
        sys.setprofile(None)
    return found
