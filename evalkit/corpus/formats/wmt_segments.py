"""WMT's segment-level JSONL: one segment per line with every translation of it and the
human scores they got, as WMT publishes its human evaluation (WMT24
`wmt24-genmt-humeval.jsonl`, WMT25 `wmt25-genmt-humeval.jsonl`):

    {"doc_id": "en-cs_CZ_#_news_#_doc7_#_0",
     "src_text": "...",
     "tgt_text": {"refA": "...", "SystemX": "...", "SystemY": "..."},
     "scores": {"SystemX": [{"score": 71.0, "annotator": "...", "errors": [...]}], ...}}

Fields read: `doc_id`, whose last `_#_N` numbers the segment in its document (WMT25: N is
its 0-based position; WMT24: its line in the language pair's file, increasing within a
document); `src_text`; `tgt_text`, where a name like `refA`/`refB`/`ref` is a reference and
any other name a system output; the language pair (see wmt_rows). `scores` are human
judgments: imported by `evalkit judgments import` (evalkit.judgments.wmt_humeval).

The segments of one document, ordered by N, make a line-aligned document (its domain, in
`Document.meta`, is the second part of a WMT25 id). References keep
their positions across the file (`refA` first), "" where a segment has none; a document
none of whose segments has one has no reference. A system must have every segment of every
document of the pair. Text is made one line (whitespace runs one space).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.corpus.formats.common import check_doc_id, check_system_name, clean_segment
from evalkit.corpus.formats.wmt_rows import SEPARATOR, Row, rows_of_pair, text_field
from evalkit.corpus.model import Document, Side, SystemOutputs, TestSet
from evalkit.errors import UserInputError

#: the names under `tgt_text` that are human references, not systems
REFERENCE_NAME = re.compile(r"^ref[A-Za-z0-9]*$")


@dataclass(frozen=True)
class Segment:
    """One row: a segment of a document and what the file says of it."""

    line: int
    pair: str | None
    #: the document: the row's doc_id without its last `_#_N`
    doc_id: str
    #: N, and the segment's 1-based position in its document (rows ordered by N)
    order: int
    position: int
    source: str
    #: name -> translation as the file has it (references and systems)
    targets: dict[str, str]
    #: the row's `scores`, as read (empty when it has none)
    scores: dict[str, Any]


def is_reference(name: str) -> bool:
    return bool(REFERENCE_NAME.match(name))


def read_segments(rows: list[Row], path: Path) -> list[Segment]:
    """Every row as a segment, in file order, with its position in its document; a row
    without `_#_N`, a segment twice, a translation that is not a string: an error naming
    the line."""
    parsed = [_parse(row, path) for row in rows]
    by_document: defaultdict[tuple[str | None, str], list[tuple[int, int]]] = defaultdict(list)
    for index, (row, doc_id, order, _, _, _) in enumerate(parsed):
        siblings = by_document[(row.pair, doc_id)]
        if any(order == known for known, _ in siblings):
            raise UserInputError(
                f"segment {order} of document {doc_id!r} appears twice", path, row.line
            )
        siblings.append((order, index))
    position = {}
    for siblings in by_document.values():
        for rank, (_, index) in enumerate(sorted(siblings), start=1):
            position[index] = rank
    return [
        Segment(row.line, row.pair, doc_id, order, position[i], source, targets, scores)
        for i, (row, doc_id, order, source, targets, scores) in enumerate(parsed)
    ]


def load_wmt_segments(
    path: Path, rows: list[Row], selector: str | None, src_lang: str, tgt_lang: str
) -> TestSet:
    chosen, src, tgt, several = rows_of_pair(rows, selector, src_lang, tgt_lang, path)
    segments = read_segments(chosen, path)
    names = list(dict.fromkeys(name for s in segments for name in s.targets))
    references = [name for name in names if is_reference(name)]
    systems = [check_system_name(n, path, None) for n in names if not is_reference(n)]
    documents: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        documents[segment.doc_id].append(segment)
    built = [
        _document(doc_id, sorted(found, key=lambda s: s.position), references, src, tgt, path)
        for doc_id, found in documents.items()
    ]
    outputs = tuple(
        SystemOutputs(
            name=system,
            documents=tuple(
                (doc_id, _texts(sorted(found, key=lambda s: s.position), system, path, True))
                for doc_id, found in documents.items()
            ),
        )
        for system in systems
    )
    pair = chosen[0].pair
    return TestSet(
        name=f"{path.stem}.{pair}" if several else path.stem,
        origin=str(path),
        tgt_lang=tgt,
        documents=tuple(built),
        outputs=outputs,
        reference_names=tuple(references),
    )


def _parse(row: Row, path: Path) -> tuple[Row, str, int, str, dict[str, str], dict[str, Any]]:
    full = text_field(row, ("doc_id",), path) or ""
    doc_id, sep, number = full.rpartition(SEPARATOR)
    if not sep or not number.strip().isdigit():
        raise UserInputError(
            f"doc_id {full!r} does not end with {SEPARATOR}N (the segment's number)",
            path,
            row.line,
        )
    source = text_field(row, ("src_text",), path) or ""
    targets = row.data.get("tgt_text", {})
    if not isinstance(targets, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in targets.items()
    ):
        raise UserInputError("'tgt_text' must map names to strings", path, row.line)
    scores = row.data.get("scores") or {}
    if not isinstance(scores, dict):
        raise UserInputError("'scores' must map system names to scores", path, row.line)
    return row, check_doc_id(doc_id, path, row.line), int(number), source, targets, scores


def _document(
    doc_id: str,
    segments: list[Segment],
    references: list[str],
    src_lang: str,
    tgt_lang: str,
    path: Path,
) -> Document:
    source = tuple(clean_segment(s.source, path, s.line) for s in segments)
    has_reference = any(s.targets.get(name, "").strip() for s in segments for name in references)
    sides = [Side(tgt_lang, _texts(segments, name, path, False), str(path)) for name in references]
    parts = doc_id.split(SEPARATOR)  # WMT25: PAIR_#_DOMAIN_#_DOCUMENT
    return Document(
        id=doc_id,
        source=Side(src_lang, source, str(path)),
        reference=sides[0] if has_reference else None,
        aligned=True,
        more_references=tuple(sides[1:]) if has_reference else (),
        meta=(("domain", parts[1]),) if len(parts) >= 3 and parts[1] else (),
    )


def _texts(segments: list[Segment], name: str, path: Path, required: bool) -> tuple[str, ...]:
    """The translation `name` of each segment; a system (`required`) must have every one."""
    texts = []
    for segment in segments:
        if required and name not in segment.targets:
            raise UserInputError(
                f"system {name!r} has no translation of this segment (it has others of the "
                "same language pair)",
                path,
                segment.line,
            )
        texts.append(clean_segment(segment.targets.get(name, ""), path, segment.line))
    return tuple(texts)
