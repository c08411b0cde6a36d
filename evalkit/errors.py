"""Errors that the command line turns into one clear message and exit code 2.

Everything a user can get wrong (a missing file, a bad line, an unknown system) raises
`UserInputError` before any result is written, so a failed command never leaves a
half-written run behind.
"""

from __future__ import annotations

from pathlib import Path


class UserInputError(Exception):
    """Bad input from the user: the message says what is wrong and where."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return f"{where}{self.args[0]}"


def first_problem(error: Exception) -> str:
    """`field.path: message` of a pydantic ValidationError's first error: what a user
    needs to fix, without pydantic's links and repeated input."""
    first = error.errors()[0]  # type: ignore[attr-defined]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


class ServiceError(UserInputError):
    """A server or API a system depends on failed (unreachable, refused, broken answers)
    after its retries. Everything finished before the failure is kept in the cache."""

    exit_code = 3


class UnitFailed(Exception):
    """An engine could not translate the unit at `index` of the list it was given; the
    harness turns this into a `ServiceError` naming the document and line."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(reason)
