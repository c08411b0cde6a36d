"""Reading text files strictly: UTF-8 or a clear error naming the file and the line.

What is refused, and why: undecodable bytes (a replaced character changes every score
computed on that line), UTF-16/UTF-32 files (recognised by their byte-order mark, which
otherwise decodes as garbage with NUL bytes), and control characters other than TAB and
the line endings (NUL is the mark of a binary or UTF-16 file read as text; ESC sequences
and other C0 bytes reach terminals and reports).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from evalkit.errors import UserInputError

#: byte-order marks of encodings that are not UTF-8, longest first (UTF-32-LE starts with
#: the UTF-16-LE mark)
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)", "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)", "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)", "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)", "UTF-16"),
)

#: C0 controls and DEL, except TAB (a column separator in TSV, harmless in text); a line
#: break inside one segment (possible in a JSON string) is refused too
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_C0_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]


def control_character(text: str) -> str | None:
    """A description of the first forbidden control character in `text`, or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    char = found.group()
    name = "DEL" if char == "\x7f" else _C0_NAMES[ord(char)]
    hint = "; is this a binary or UTF-16 file?" if char == "\x00" else ""
    return f"control character U+{ord(char):04X} ({name}) at column {found.start() + 1}{hint}"


def check_text(text: str, path: Path, line: int | None) -> None:
    """Refuse text holding a control character, naming the file and line."""
    problem = control_character(text)
    if problem is not None:
        raise UserInputError(problem, path, line)


def read_lines(path: Path) -> list[str]:
    """Return the file's lines without line endings; a leading UTF-8 BOM is dropped.

    Undecodable bytes, a UTF-16/UTF-32 byte-order mark and control characters are errors
    naming the 1-based line, never replaced or dropped silently.
    """
    try:
        found, regular = path.exists(), path.is_file()
    except PermissionError:
        raise
    except OSError as err:  # e.g. a name longer than the file system allows
        raise UserInputError(f"cannot open: {err.strerror or err}", path) from None
    if not found:
        raise UserInputError("file not found", path)
    if not regular:
        raise UserInputError("not a regular file", path)
    data = path.read_bytes()
    for bom, encoding, iconv_name in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise UserInputError(
                f"this is a {encoding} file (byte-order mark {bom.hex(' ').upper()}); evalkit "
                f"reads UTF-8: convert it, e.g. iconv -f {iconv_name} -t UTF-8 {path}",
                path,
            )
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
    lines = [line.removesuffix("\r") for line in lines]
    if _CONTROL.search(text.replace("\n", "").replace("\r", "")):
        for line_no, line in enumerate(lines, start=1):
            check_text(line.replace("\r", ""), path, line_no)
    return lines


def blank_facing_text(blank_side: str) -> str:
    """The message for a line-aligned pair with text on one side only: such a pair is
    almost always a line missing or added on one side, which shifts every pair after it."""
    return (
        f"the {blank_side} line is blank but its counterpart has text; in line-aligned "
        "input a blank line must face a blank line (a line was probably added or lost)"
    )
