"""What WMT's JSONL files share: one JSON object per line, and the language pair a row
belongs to, which WMT writes in several ways.

A row's pair is, in this order: `src_lang` and `tgt_lang`; `lp`, `langs` or `langpair`
(`en-cs_CZ`); the first part of a WMT25 id (`en-cs_CZ_#_news_#_doc_#_0`). Rows that name
none (WMT24's human evaluation) belong to --src-lang/--tgt-lang.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.corpus.formats.common import bcp47, choose_pair, split_pair
from evalkit.corpus.jsontext import parse_json
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError

#: how WMT joins the parts of an id: language pair, domain, document, segment
SEPARATOR = "_#_"
_PAIR = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]+)*-[a-z]{2,3}(?:_[A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any]
    #: the language pair as the file writes it (`en-cs_CZ`), None when it names none
    pair: str | None


def read_rows(path: Path) -> list[Row]:
    """Every object of a JSONL file with its line; blank lines skipped."""
    rows = []
    for number, text in enumerate(read_lines(path), start=1):
        if not text.strip():
            continue
        data = parse_json(text, path, number)
        if not isinstance(data, dict):
            raise UserInputError("each line must be a JSON object", path, number)
        rows.append(Row(number, data, _pair(data, path, number)))
    if not rows:
        raise UserInputError("empty file: no rows", path)
    return rows


def text_field(row: Row, keys: tuple[str, ...], path: Path, required: bool = True) -> str | None:
    """The first of `keys` the row has, which must be a string."""
    for key in keys:
        if key in row.data:
            value = row.data[key]
            if not isinstance(value, str):
                raise UserInputError(f"{key!r} must be a string", path, row.line)
            return value
    if required:
        raise UserInputError(f"no {' or '.join(repr(k) for k in keys)}", path, row.line)
    return None


def rows_of_pair(
    rows: list[Row], selector: str | None, src_lang: str, tgt_lang: str, path: Path
) -> tuple[list[Row], str, str, bool]:
    """The rows of the chosen pair, its languages as BCP 47 tags, and whether the file
    holds other pairs. Rows that name no pair are the --src-lang/--tgt-lang pair; a file
    cannot mix them with rows that name one."""
    named = [row for row in rows if row.pair is not None]
    if not named:
        return rows, bcp47(src_lang, "--src-lang", path), bcp47(tgt_lang, "--tgt-lang", path), False
    if len(named) != len(rows):
        unnamed = next(row for row in rows if row.pair is None)
        raise UserInputError("this row names no language pair, others do", path, unnamed.line)
    pairs = list(dict.fromkeys(row.pair for row in named if row.pair))
    pair = choose_pair(pairs, selector, src_lang, tgt_lang, path)
    chosen = [row for row in rows if row.pair == pair]
    src, tgt = split_pair(pair)
    line = chosen[0].line
    return (
        chosen,
        bcp47(src, "the source language", path, line),
        bcp47(tgt, "the target language", path, line),
        len(pairs) > 1,
    )


def _pair(data: dict[str, Any], path: Path, line: int) -> str | None:
    src, tgt = data.get("src_lang"), data.get("tgt_lang")
    if isinstance(src, str) and isinstance(tgt, str) and src and tgt:
        return f"{src}-{tgt}"
    for key in ("lp", "langs", "langpair"):
        value = data.get(key)
        if isinstance(value, str) and "-" in value:
            return value
    doc_id = data.get("doc_id")
    if isinstance(doc_id, str):
        parts = doc_id.split(SEPARATOR)
        if len(parts) >= 3 and _PAIR.fullmatch(parts[0]):
            return parts[0]
    if src is not None or tgt is not None:
        raise UserInputError("src_lang and tgt_lang must both be non-empty strings", path, line)
    return None
