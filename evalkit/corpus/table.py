"""Test sets as one table: JSONL objects or TSV rows with columns doc_id, src and ref.

Rows of the same doc_id form one document, in file order; `ref` is optional but must be
present on every row of a document or on none. An optional `seg_id` column must be
unique within its document. Rows are line-aligned by construction.
"""

from __future__ import annotations

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
        doc_id, src, ref, seg_id = _fields(row, path, line_no)
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
    if not docs:
        raise UserInputError("empty file: no rows", path)
    documents = []
    for doc_id, doc in docs.items():
        if not any(text.strip() for text in doc.src):
            raise UserInputError(f"empty document {doc_id!r}", path, doc.first_line)
        has_ref = doc.ref[0] is not None
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


def _fields(row: dict, path: Path, line_no: int) -> tuple[str, str, str | None, str | None]:
    for column in ("doc_id", "src"):
        if column not in row:
            raise UserInputError(f"missing column {column!r}", path, line_no)
    values = {}
    for column in ("doc_id", "src", "ref", "seg_id"):
        value = row.get(column)
        if value is not None and not isinstance(value, (str, int)):
            raise UserInputError(f"column {column!r} must be a string", path, line_no)
        values[column] = None if value is None else str(value)
    if not values["doc_id"]:
        raise UserInputError("empty doc_id", path, line_no)
    for column, value in values.items():
        problem = control_character(value or "")
        if problem is not None:
            raise UserInputError(f"column {column!r}: {problem}", path, line_no)
    src, ref = values["src"] or "", values["ref"]
    if ref is not None and bool(src.strip()) != bool(ref.strip()):
        raise UserInputError(blank_facing_text("src" if ref.strip() else "ref"), path, line_no)
    return values["doc_id"], values["src"], values["ref"], values["seg_id"]
