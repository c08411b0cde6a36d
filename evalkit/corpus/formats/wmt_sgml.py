"""WMT's SGML test sets (WMT 2008-2020): a source file, reference files and system files,
read line by line as sacrebleu's `FakeSGMLDataset` reads them (the files are not valid
SGML or XML: `&` and `<` appear unescaped in text).

    <srcset setid="newstest2019" srclang="de" trglang="en">
    <doc docid="abendblatt.1" genre="news" origlang="de">
    <p>
    <seg id="1">Text ...</seg>
    </p>
    </doc>
    </srcset>

How the files of one test set are found: `--data` names the source file (`<srcset>`, e.g.
`newstest2019-deen-src.de.sgm`) or a folder holding exactly one. The `<refset>` files of the
same folder that hold the source's documents are its references, in file-name order (the
first is `Document.reference`; named by their `refid`, else their file name, in
`TestSet.reference_names`); the `<tstset>` files that hold them are system outputs
(`TestSet.outputs`, named by their `sysid`, else their file name). Files of other test
sets in the folder (other documents) are left alone. Languages come from `srclang` and
`trglang`, or from the file name (`-src.de.sgm`, `-ref.en.sgm`) where an attribute is
missing or says `any`.

Each `<doc docid=...>` is a line-aligned document, one segment per `<seg id=...>` line;
`genre` goes to `Document.meta` as `domain`, `origlang` as `origlang`. A reference or
system must have every segment of every source document. Text is sacrebleu's: whitespace
runs one space, ends trimmed, nothing unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.corpus.formats.common import bcp47, check_doc_id, check_system_name, clean_segment
from evalkit.corpus.model import Document, Side, SystemOutputs, TestSet
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError

SUFFIXES = (".sgm", ".sgml")
_ROOT = re.compile(r"<\s*(srcset|refset|tstset)\b([^>]*)>", re.IGNORECASE)
_DOC = re.compile(r"^\s*<\s*doc\b([^>]*)>", re.IGNORECASE)
_SEG_START = re.compile(r"^\s*(?:<p>\s*)?<\s*seg\b", re.IGNORECASE)
_SEG = re.compile(r"^\s*(?:<p>\s*)?<\s*seg\b([^>]*)>(.*?)</seg>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
#: `X-src.de.sgm`, `X-ref.en.sgm`: the language a file name gives
_NAME_LANG = re.compile(r"-(?:src|ref)[^.]*\.([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)\.sgml?$")
#: how many lines of a file are looked at to find its root and first document
_HEAD_LINES = 50


@dataclass
class _Doc:
    doc_id: str
    attrs: dict[str, str]
    line: int
    #: (segment id, text, line), in file order
    segments: list[tuple[int, str, int]] = field(default_factory=list)


@dataclass
class _File:
    path: Path
    kind: str
    attrs: dict[str, str]
    docs: dict[str, _Doc]


def load_wmt_sgml(path: Path) -> TestSet:
    """The test set whose source file is `path` (or the one source file in the folder)."""
    src_path = _source_file(path)
    src = _read(src_path)
    if src.kind != "srcset":
        raise UserInputError(
            f"this is a <{src.kind}>: give the source file (<srcset>) or its folder", src_path
        )
    if not src.docs:
        raise UserInputError("no <doc> with segments", src_path)
    refs, systems = _companions(src)
    src_lang = _language(src, "srclang", src_path)
    tgt_lang = _target_language(src, refs, systems)
    documents = [_document(doc, src_path, src_lang, tgt_lang, refs) for doc in src.docs.values()]
    outputs = []
    for system in systems:
        name = check_system_name(_system_name(system), system.path, 1)
        lines = [(d.id, _texts_like(src.docs[d.id], system)) for d in documents]
        outputs.append(SystemOutputs(name=name, documents=tuple(lines)))
    return TestSet(
        name=src.attrs.get("setid") or src_path.stem,
        origin=str(src_path),
        tgt_lang=tgt_lang,
        documents=tuple(documents),
        outputs=tuple(outputs),
        reference_names=tuple(_reference_name(ref) for ref in refs),
    )


def _source_file(path: Path) -> Path:
    if path.is_file():
        return path
    sources = [p for p in _sgml_files(path) if _head(p)[0] == "srcset"]
    if len(sources) != 1:
        found = ", ".join(p.name for p in sources) or "none"
        raise UserInputError(
            f"expected one <srcset> file in the folder, found {len(sources)} ({found}): "
            "give the source file itself",
            path,
        )
    return sources[0]


def _sgml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def _companions(src: _File) -> tuple[list[_File], list[_File]]:
    """The reference and system files next to the source that hold its documents: a quick
    look at each file's first document, then a full read of those that start alike."""
    first = next(iter(src.docs))
    refs: list[_File] = []
    systems: list[_File] = []
    for path in _sgml_files(src.path.parent):
        if path == src.path:
            continue
        kind, first_doc = _head(path)
        if kind not in ("refset", "tstset") or first_doc != first:
            continue
        companion = _read(path)
        if set(companion.docs) != set(src.docs):
            missing = sorted(set(src.docs) - set(companion.docs))
            extra = sorted(set(companion.docs) - set(src.docs))
            what = f"lacks document {missing[0]!r}" if missing else f"has document {extra[0]!r}"
            raise UserInputError(
                f"starts like {src.path.name} but {what}, which the source "
                + ("has" if missing else "has not"),
                path,
            )
        (refs if kind == "refset" else systems).append(companion)
    return refs, systems


def _head(path: Path) -> tuple[str | None, str | None]:
    """The root element's name and the first document's id, from the first lines."""
    kind = first_doc = None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                if number >= _HEAD_LINES:
                    break
                root = _ROOT.search(line) if kind is None else None
                if root:
                    kind = root.group(1).lower()
                doc = _DOC.match(line)
                if doc:
                    first_doc = _attributes(doc.group(1)).get("docid")
                    break
    except OSError:
        return None, None
    return kind, first_doc


def _read(path: Path) -> _File:
    """Every document and segment of one file; a segment outside a document, a `<seg>`
    without a numeric id or not closed on its line, a document without a `docid`: an error
    naming the line."""
    kind, attrs = None, {}
    docs: dict[str, _Doc] = {}
    current: _Doc | None = None
    for number, line in enumerate(read_lines(path), start=1):
        root = _ROOT.search(line) if kind is None else None
        if root:
            kind, attrs = root.group(1).lower(), _attributes(root.group(2))
            continue
        doc = _DOC.match(line)
        if doc:
            current = _open_document(_attributes(doc.group(1)), docs, path, number)
            continue
        if _SEG_START.match(line):
            if current is None:
                raise UserInputError("<seg> outside a <doc>", path, number)
            current.segments.append(_segment(line, current, path, number))
    if kind is None:
        raise UserInputError("no <srcset>, <refset> or <tstset> element: not WMT SGML", path)
    return _File(path, kind, attrs, {d: doc for d, doc in docs.items() if doc.segments})


def _open_document(attrs: dict[str, str], docs: dict[str, _Doc], path: Path, line: int) -> _Doc:
    doc_id = check_doc_id(attrs.get("docid", ""), path, line)
    if doc_id in docs:
        raise UserInputError(f"document {doc_id!r} appears twice", path, line)
    docs[doc_id] = _Doc(doc_id, attrs, line)
    return docs[doc_id]


def _segment(line: str, doc: _Doc, path: Path, number: int) -> tuple[int, str, int]:
    seg = _SEG.match(line)
    if seg is None:
        raise UserInputError("a <seg> must open and close on its line", path, number)
    raw = _attributes(seg.group(1)).get("id", "")
    try:
        seg_id = int(raw)
    except ValueError:
        raise UserInputError(
            f"<seg> id {raw!r} is not a number" if raw else "<seg> without an id", path, number
        ) from None
    if any(seg_id == known for known, _, _ in doc.segments):
        raise UserInputError(
            f"segment id {seg_id} appears twice in document {doc.doc_id!r}", path, number
        )
    return seg_id, clean_segment(seg.group(2), path, number), number


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _ATTR.finditer(text)
    }


def _language(file: _File, attribute: str, path: Path) -> str:
    """A file's language: its attribute, or its file name's where that is missing or `any`."""
    value = file.attrs.get(attribute, "")
    if not value or value.lower() == "any":
        named = _NAME_LANG.search(file.path.name)
        if named is None:
            raise UserInputError(
                f"no {attribute} (or it says 'any') and no language in the file name "
                "(as in X-src.de.sgm, X-ref.en.sgm)",
                path,
            )
        value = named.group(1)
    return bcp47(value, attribute, path, 1)


def _target_language(src: _File, refs: list[_File], systems: list[_File]) -> str:
    """The references' language (all the same), else the source's or systems' trglang."""
    langs = {_language(ref, "trglang", ref.path) for ref in refs}
    if len(langs) > 1:
        raise UserInputError(
            f"references in several languages ({', '.join(sorted(langs))})", src.path.parent
        )
    if langs:
        return langs.pop()
    for file in (src, *systems):
        value = file.attrs.get("trglang", "")
        if value and value.lower() != "any":
            return bcp47(value, "trglang", file.path, 1)
    raise UserInputError(
        "no reference file next to the source and no trglang: the target language is unknown",
        src.path,
    )


def _document(doc: _Doc, path: Path, src_lang: str, tgt_lang: str, refs: list[_File]) -> Document:
    references = [
        Side(lang=tgt_lang, segments=_texts_like(doc, ref), path=str(ref.path)) for ref in refs
    ]
    meta = tuple(
        (key, doc.attrs[name])
        for name, key in (("origlang", "origlang"), ("genre", "domain"))
        if doc.attrs.get(name)
    )
    return Document(
        id=doc.doc_id,
        source=Side(lang=src_lang, segments=tuple(t for _, t, _ in doc.segments), path=str(path)),
        reference=references[0] if references else None,
        aligned=True,
        more_references=tuple(references[1:]),
        meta=meta,
    )


def _texts_like(doc: _Doc, other: _File) -> tuple[str, ...]:
    """The other file's text of each of the source document's segments, in source order."""
    theirs = other.docs[doc.doc_id]
    by_id = {seg_id: text for seg_id, text, _ in theirs.segments}
    for seg_id, _, _ in doc.segments:
        if seg_id not in by_id:
            raise UserInputError(
                f"document {doc.doc_id!r} has no segment {seg_id}", other.path, theirs.line
            )
    if len(by_id) != len(doc.segments):
        extra = sorted(set(by_id) - {seg_id for seg_id, _, _ in doc.segments})
        raise UserInputError(
            f"document {doc.doc_id!r} has segment {extra[0]}, which the source has not",
            other.path,
            theirs.line,
        )
    return tuple(by_id[seg_id] for seg_id, _, _ in doc.segments)


def _reference_name(file: _File) -> str:
    """A reference file's `refid`, else its file name (its documents' `sysid` is `ref` in
    every WMT file, which would not tell two references apart)."""
    return file.attrs.get("refid") or file.path.stem


def _system_name(file: _File) -> str:
    """A system file's `sysid` (on its root or its first document), else its file name."""
    first = next(iter(file.docs.values()), None)
    return (
        file.attrs.get("sysid") or (first.attrs.get("sysid") if first else None) or file.path.stem
    )
