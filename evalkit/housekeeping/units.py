"""Sizes and ages as users write them on the command line (`500M`, `2G`, `30d`).

Sizes are decimal (1M = 1,000,000 bytes), as `evalkit cache info` prints megabytes;
`MiB`-style suffixes are binary for those who want them.
"""

from __future__ import annotations

import re
from pathlib import Path

from evalkit.errors import UserInputError

_SIZE_UNITS = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}
_AGE_UNITS = {"h": 3600, "d": 86_400, "w": 7 * 86_400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?", re.IGNORECASE)
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([hdw])", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from `500M`, `2G`, `1.5GB`, `512MiB` or a plain byte count."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise UserInputError(f"not a size: {text!r} (write e.g. 500M, 2G, 1.5GB or 512MiB)")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[(unit or "").lower()])


def parse_age(text: str) -> float:
    """Seconds from `36h`, `30d` or `2w` (or `0`)."""
    if text.strip() == "0":
        return 0.0
    match = _AGE.fullmatch(text.strip())
    if not match:
        raise UserInputError(f"not an age: {text!r} (write e.g. 36h, 30d or 2w)")
    number, unit = match.groups()
    return float(number) * _AGE_UNITS[unit.lower()]


def format_size(size: int) -> str:
    """`0 B`, `812 B`, `4.2 kB`, `1.3 MB`, `2.40 GB`: as people read disk space."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 10**3), ("MB", 10**6), ("GB", 10**9)):
        if size < scale * 1000:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 10**12:.2f} TB"


def folder_size(root: Path) -> int:
    """Bytes of the files under a folder (or of one file); what vanishes meanwhile is 0."""
    try:
        if not root.is_dir() or root.is_symlink():
            return root.lstat().st_size
    except OSError:
        return 0
    total = 0
    for entry in root.rglob("*"):
        try:
            if entry.is_file() and not entry.is_symlink():
                total += entry.stat().st_size
        except OSError:
            continue
    return total
