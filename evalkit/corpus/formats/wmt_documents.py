"""WMT's document-level JSONL: one document per line, as WMT25 publishes its test set
(wmt-conference/wmt25-general-mt, `data/wmt25-genmt.jsonl`) with each system's outputs in
`data/systems/SYSTEM.jsonl`.

Fields read from a test-set row:
  doc_id                          the document id
  src_lang, tgt_lang (or lp)      the language pair (`en`, `cs_CZ`; see wmt_rows)
  src_text (or source_doc, source)  the source document
  refs: {NAME: {"ref": TEXT}}     the references (or one in `ref`, `reference`, `tgt_text`)
  domain                          kept in Document.meta
A system file next to the test set, `systems/NAME.jsonl`, has rows `{"doc_id", "hypothesis"}`.

WMT splits a document into paragraphs at blank lines ("\\n\\n") and aligns them (its
scripts check that every system has as many paragraphs as the source); so does evalkit:
one segment per paragraph, whitespace inside a paragraph made one space. A reference
with as many paragraphs as the source is line-aligned; one with another number makes the
document unaligned (evalkit aligns it). References keep their positions across the file
(`TestSet.reference_names`): a document without `refB` has "" there. A system must have
the source's paragraph count.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.corpus.formats.common import check_doc_id, check_system_name, clean_segment
from evalkit.corpus.formats.wmt_rows import Row, read_rows, rows_of_pair, text_field
from evalkit.corpus.model import Document, Side, SystemOutputs, TestSet
from evalkit.errors import UserInputError

SOURCE_KEYS = ("src_text", "source_doc", "source")
SINGLE_REFERENCE_KEYS = ("ref", "reference", "tgt_text")
SYSTEMS_FOLDER = "systems"
PARAGRAPH_BREAK = "\n\n"


def load_wmt_documents(
    path: Path, rows: list[Row], selector: str | None, src_lang: str, tgt_lang: str
) -> TestSet:
    chosen, src, tgt, several = rows_of_pair(rows, selector, src_lang, tgt_lang, path)
    references = [_references(row, path) for row in chosen]
    names = list(dict.fromkeys(name for found in references for name in found))
    documents: list[Document] = []
    for row, found in zip(chosen, references, strict=True):
        document = _document(row, found, names, src, tgt, path)
        if any(d.id == document.id for d in documents):
            raise UserInputError(f"document {document.id!r} appears twice", path, row.line)
        documents.append(document)
    pair = chosen[0].pair
    return TestSet(
        name=f"{path.stem}.{pair}" if several else path.stem,
        origin=str(path),
        tgt_lang=tgt,
        documents=tuple(documents),
        outputs=_system_outputs(path.parent / SYSTEMS_FOLDER, documents),
        reference_names=tuple(names),
    )


def paragraphs(text: str, path: Path, line: int | None) -> tuple[str, ...]:
    """A document's paragraphs as WMT splits them, each made one clean line."""
    return tuple(clean_segment(p, path, line) for p in text.strip().split(PARAGRAPH_BREAK))


def _document(
    row: Row, references: dict[str, str], names: list[str], src_lang: str, tgt_lang: str, path: Path
) -> Document:
    """One document; its references keep their positions in `names` (those of the whole
    file), a reference it lacks being "" for every source paragraph."""
    doc_id = check_doc_id(text_field(row, ("doc_id",), path) or "", path, row.line)
    source = paragraphs(text_field(row, SOURCE_KEYS, path) or "", path, row.line)
    if not any(source):
        raise UserInputError(f"document {doc_id!r} has no source text", path, row.line)
    given = {name: paragraphs(text, path, row.line) for name, text in references.items()}
    sides = [Side(tgt_lang, given.get(name, ("",) * len(source)), str(path)) for name in names]
    domain = row.data.get("domain")
    return Document(
        id=doc_id,
        source=Side(src_lang, source, str(path)),
        reference=sides[0] if given else None,
        aligned=all(len(lines) == len(source) for lines in given.values()),
        more_references=tuple(sides[1:]) if given else (),
        meta=(("domain", domain),) if isinstance(domain, str) and domain else (),
    )


def _references(row: Row, path: Path) -> dict[str, str]:
    """NAME -> text: WMT25's `refs` (`{"refA": {"ref": TEXT}}`), or one unnamed reference."""
    refs = row.data.get("refs")
    if refs is None:
        single = text_field(row, SINGLE_REFERENCE_KEYS, path, required=False)
        return {"ref": single} if single and single.strip() else {}
    if not isinstance(refs, dict):
        raise UserInputError("'refs' must be an object: {NAME: {\"ref\": TEXT}}", path, row.line)
    found = {}
    for name, value in refs.items():
        text = value.get("ref") if isinstance(value, dict) else value
        if not isinstance(text, str):
            raise UserInputError(
                f'reference {name!r} must be a string or {{"ref": TEXT}}', path, row.line
            )
        if text.strip():
            found[name] = text
    return found


def _system_outputs(folder: Path, documents: list[Document]) -> tuple[SystemOutputs, ...]:
    """The outputs in `systems/NAME.jsonl` for these documents; a system file holding none
    of them (another language pair's system) is left out."""
    if not folder.is_dir():
        return ()
    outputs = []
    for file in sorted(folder.glob("*.jsonl")):
        name = check_system_name(file.stem, file, None)
        hypotheses = _hypotheses(file, documents)
        if hypotheses:
            outputs.append(_complete(name, hypotheses, documents, file))
    return tuple(outputs)


def _hypotheses(file: Path, documents: list[Document]) -> dict[str, tuple[tuple[str, ...], int]]:
    """doc id -> (paragraphs, line) of the documents of the test set a system file has."""
    wanted = {doc.id: doc for doc in documents}
    found: dict[str, tuple[tuple[str, ...], int]] = {}
    for row in read_rows(file):
        doc_id = text_field(row, ("doc_id",), file) or ""
        if doc_id not in wanted:
            continue
        lines = paragraphs(text_field(row, ("hypothesis",), file) or "", file, row.line)
        expected = len(wanted[doc_id].source.segments)
        if len(lines) != expected:
            raise UserInputError(
                f"document {doc_id!r}: {len(lines)} paragraphs, the source has {expected}",
                file,
                row.line,
            )
        found[doc_id] = (lines, row.line)
    return found


def _complete(
    name: str,
    hypotheses: dict[str, tuple[tuple[str, ...], int]],
    documents: list[Document],
    file: Path,
) -> SystemOutputs:
    missing = [doc.id for doc in documents if doc.id not in hypotheses]
    if missing:
        raise UserInputError(
            f"system {name!r} has no output for document {missing[0]!r} of the test set", file
        )
    return SystemOutputs(
        name=name, documents=tuple((doc.id, hypotheses[doc.id][0]) for doc in documents)
    )
