"""Reading text files strictly: UTF-8 or a clear error naming the file and the line."""

from __future__ import annotations

from pathlib import Path

from evalkit.errors import UserInputError


def read_lines(path: Path) -> list[str]:
    """Return the file's lines without line endings; a leading BOM is dropped.

    Undecodable bytes are an error (with the 1-based line number), never replaced
    silently: a replaced character changes every score computed on that line.
    """
    if not path.exists():
        raise UserInputError("file not found", path)
    if not path.is_file():
        raise UserInputError("not a regular file", path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UserInputError(
            f"not valid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})", path, line
        ) from None
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
