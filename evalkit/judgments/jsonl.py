"""Judgments as JSONL: what `evalkit judgments export` writes and `import` reads back.

One judgment per line, a JSON object with every field of `Judgment` plus `version`, the
version of this format (now 1), on every line rather than in a header, so that files can be
concatenated, filtered with grep or split without losing it:

    {"version": 1, "run_id": "...", "segment_id": "doc#s3", "system": "mt", "annotator": "ana",
     "protocol": "mqm", "score": null, "spans": [{"start": 0, "end": 4, "severity": "minor",
     "category": "fluency/punctuation"}], "target": "...", "attention_check": false,
     "complete": true, "origin": "browser", "updated": "2025-01-01T12:00:00+00:00"}

Reading is strict (unknown fields, a missing or unknown version, a bad value: an error that
names the file and line) because a judgment silently read wrong would bias a
meta-evaluation; blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from evalkit.errors import UserInputError, first_problem
from evalkit.judgments.model import Judgment

#: the version of the line format; a reader refuses versions it does not know
FORMAT_VERSION = 1
READABLE_VERSIONS = (1,)


def judgment_line(judgment: Judgment) -> str:
    """One judgment as one line of JSON (no newline), `version` first."""
    return json.dumps({"version": FORMAT_VERSION, **judgment.model_dump()}, ensure_ascii=False)


def dumps(judgments: Iterable[Judgment]) -> str:
    """The whole file: one line per judgment, each ending with a newline."""
    return "".join(judgment_line(judgment) + "\n" for judgment in judgments)


def parse_line(text: str, path: Path | str, line: int) -> Judgment:
    """A judgment from one line; anything wrong is a `UserInputError` naming path and line."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise UserInputError(f"not JSON: {error}", path, line) from None
    if not isinstance(raw, dict):
        raise UserInputError("not a JSON object", path, line)
    if "version" not in raw:
        raise UserInputError(
            "no `version` field (evalkit judgments JSONL has one per line)", path, line
        )
    version = raw.pop("version")
    if version not in READABLE_VERSIONS:
        raise UserInputError(
            f"judgment format version {version!r} is not readable by this evalkit "
            f"(reads {', '.join(map(str, READABLE_VERSIONS))})",
            path,
            line,
        )
    try:
        return Judgment.model_validate(raw)
    except ValidationError as error:
        raise UserInputError(f"invalid judgment: {first_problem(error)}", path, line) from None


def read(path: Path) -> list[tuple[int, Judgment]]:
    """Every judgment of a JSONL file with its line number; all lines are checked before
    anything is returned, so a caller never acts on part of a bad file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserInputError(f"unreadable: {error.strerror}", path) from None
    found = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UserInputError("not UTF-8", path, number) from None
        if text.strip():
            found.append((number, parse_line(text, path, number)))
    return found
