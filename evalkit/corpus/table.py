"""Test sets as one table: JSONL objects or TSV rows with columns doc_id, src and ref.

Rows of the same doc_id form one document, in file order; `ref` is optional but must be
present on every row of a document or on none. Further references go in `ref2`, `ref3`,
... (or, in JSONL, `ref` may be a list of strings); a further reference may be empty or
missing on a row where its translator gave none. An optional `seg_id` column must be
unique within its document. Rows are line-aligned by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.corpus.jsontext import parse_json
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.corpus.textfile import blank_facing_text, control_character, read_lines
from evalkit.errors import UserInputError

TABLE_SUFFIXES = (".jsonl", ".tsv")


@dataclass
class _DocRows:
    first_line: int
    src: list[str] = field(default_factory=list)
    ref: list[str | None] = field(default_factory=list)
    #: per row, its further references (ref2, ref3, ...), "" where a row has none
    more: list[list[str]] = field(default_factory=list)
    seg_ids: set[str] = field(default_factory=set)


def load_table(path: Path, src_lang: str, tgt_lang: str) -> TestSet:
    if path.suffix == ".jsonl":
        rows = _jsonl_rows(path)
    elif path.suffix == ".tsv":
        rows = _tsv_rows(path)
    else:
        raise UserInputError(f"unknown table format {path.suffix!r}; use .jsonl or .tsv", path)
    docs: dict[str, _DocRows] = {}
    for line_no, row in rows:
        doc_id, src, refs, seg_id = _fields(row, path, line_no)
        ref = refs[0] if refs else None
        doc = docs.setdefault(doc_id, _DocRows(first_line=line_no))
        if seg_id is not None:
            if seg_id in doc.seg_ids:
                raise UserInputError(
                    f"duplicate seg_id {seg_id!r} in document {doc_id!r}", path, line_no
                )
            doc.seg_ids.add(seg_id)
        if doc.ref and (doc.ref[0] is None) != (ref is None):
            raise UserInputError(
                f"document {doc_id!r} has a ref on some rows but not on others", path, line_no
            )
        doc.src.append(src)
        doc.ref.append(ref)
        doc.more.append(list(refs[1:]))
    if not docs:
        raise UserInputError("empty file: no rows", path)
    documents = []
    for doc_id, doc in docs.items():
        if not any(text.strip() for text in doc.src):
            raise UserInputError(f"empty document {doc_id!r}", path, doc.first_line)
        has_ref = doc.ref[0] is not None
        width = max((len(more) for more in doc.more), default=0)
        documents.append(
            Document(
                id=doc_id,
                source=Side(lang=src_lang, segments=tuple(doc.src), path=str(path)),
                reference=Side(
                    lang=tgt_lang, segments=tuple(r or "" for r in doc.ref), path=str(path)
                )
                if has_ref
                else None,
                aligned=True,
                more_references=tuple(
                    Side(
                        lang=tgt_lang,
                        segments=tuple(more[k] if k < len(more) else "" for more in doc.more),
                        path=str(path),
                    )
                    for k in range(width)
                ),
            )
        )
    return TestSet(name=path.stem, origin=str(path), tgt_lang=tgt_lang, documents=tuple(documents))


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        row = parse_json(line, path, line_no)
        if not isinstance(row, dict):
            raise UserInputError("each line must be a JSON object", path, line_no)
        rows.append((line_no, row))
    return rows


def _tsv_rows(path: Path) -> list[tuple[int, dict]]:
    lines = read_lines(path)
    if not lines:
        raise UserInputError("empty file", path)
    # Cells are what lies between tabs, nothing quoted or escaped (the csv module with
    # QUOTE_NONE reads the same, but refuses a carriage return inside a line and cells of
    # more than 131,072 characters with its own exception)
    header = lines[0].split("\t")
    if "doc_id" not in header or "src" not in header:
        raise UserInputError(
            f"the first line must name the columns (doc_id, src[, ref][, seg_id]); got {header}",
            path,
            1,
        )
    rows = []
    for line_no, cells in enumerate((line.split("\t") for line in lines[1:]), start=2):
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise UserInputError(
                f"expected {len(header)} tab-separated columns, found {len(cells)}", path, line_no
            )
        rows.append((line_no, dict(zip(header, cells, strict=True))))
    return rows


#: the columns of further references: ref2, ref3, ...
_MORE_REF = re.compile(r"ref([2-9]|[1-9][0-9]+)")


def _fields(row: dict, path: Path, line_no: int) -> tuple[str, str, list[str], str | None]:
    """(doc_id, src, references in order, seg_id) of one row; references are [] without
    any, and "" stands for a further reference the row lacks."""
    for column in ("doc_id", "src"):
        if column not in row:
            raise UserInputError(f"missing column {column!r}", path, line_no)
    refs = _references(row, path, line_no)
    values = {}
    for column in ("doc_id", "src", "seg_id"):
        value = row.get(column)
        if value is not None and not isinstance(value, (str, int)):
            raise UserInputError(f"column {column!r} must be a string", path, line_no)
        values[column] = None if value is None else str(value)
    if not values["doc_id"]:
        raise UserInputError("empty doc_id", path, line_no)
    for column, value in [*values.items(), *(("ref", r) for r in refs)]:
        problem = control_character(value or "")
        if problem is not None:
            raise UserInputError(f"column {column!r}: {problem}", path, line_no)
    src = values["src"] or ""
    if refs and bool(src.strip()) != any(r.strip() for r in refs):
        raise UserInputError(
            blank_facing_text("src" if src.strip() == "" else "ref"), path, line_no
        )
    return values["doc_id"] or "", src, refs, values["seg_id"]


def _references(row: dict, path: Path, line_no: int) -> list[str]:
    """`ref` (a string, or in JSONL a list of strings), then `ref2`, `ref3`, ... in order."""
    first = row.get("ref")
    refs: list[object] = list(first) if isinstance(first, list) else [first]
    numbered = sorted((int(m.group(1)), c) for c in row if (m := _MORE_REF.fullmatch(c)))
    for number, column in numbered:
        if number != len(refs) + 1:
            raise UserInputError(
                f"column {column!r} without ref{len(refs) + 1}: number references from 2",
                path,
                line_no,
            )
        refs.append(row[column])
    if refs == [None]:
        return []
    if refs[0] is None:
        raise UserInputError("ref2 and later need a ref on the same row", path, line_no)
    out = []
    for value in refs:
        if value is not None and not isinstance(value, (str, int)):
            raise UserInputError(
                "column 'ref' must be a string or a list of strings", path, line_no
            )
        out.append("" if value is None else str(value))
    return out
