"""WMT's JSONL test sets (WMT24, WMT25): which of its two shapes a file has.

A row whose `tgt_text` maps names to translations, or that has `scores`, is one segment
of WMT's human evaluation (evalkit.corpus.formats.wmt_segments); any other row is one
document of a test set (evalkit.corpus.formats.wmt_documents). A file has one shape.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.corpus.formats.wmt_documents import load_wmt_documents
from evalkit.corpus.formats.wmt_rows import Row, read_rows
from evalkit.corpus.formats.wmt_segments import load_wmt_segments
from evalkit.corpus.model import TestSet
from evalkit.errors import UserInputError


def is_segment_row(row: Row) -> bool:
    return isinstance(row.data.get("tgt_text"), dict) or "scores" in row.data


def load_wmt_jsonl(path: Path, selector: str | None, src_lang: str, tgt_lang: str) -> TestSet:
    rows = read_rows(path)
    segment_level = is_segment_row(rows[0])
    for row in rows[1:]:
        if is_segment_row(row) != segment_level:
            shape = "a document" if segment_level else "a segment (tgt_text names, scores)"
            raise UserInputError(f"this row is {shape}, unlike the first row", path, row.line)
    load = load_wmt_segments if segment_level else load_wmt_documents
    return load(path, rows, selector, src_lang, tgt_lang)
