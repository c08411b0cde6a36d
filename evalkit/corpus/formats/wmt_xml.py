"""WMT's XML test sets (newstest2021 and later), read as sacrebleu reads them.

One file holds the whole test set of a language pair (schema: wmt-conference/wmt-format-tools,
`schema/wmt-schema.rnc`):

    <dataset id="wmttest2022">
      <collection id="general">
        <doc id="doc-1" origlang="en" domain="news">
          <src lang="en"><p><seg id="1">...</seg></p></src>
          <ref lang="de" translator="A"><p><seg id="1">...</seg></p></ref>
          <ref lang="de" translator="B">...</ref>
          <hyp lang="de" system="SystemX">...</hyp>
        </doc>
      </collection>
    </dataset>

What becomes what, following sacrebleu's `WMTXMLDataset._unwrap_wmt21_or_later` so that a
run scores the same segments as `sacrebleu -t wmt22`:
- each `<doc>` is a line-aligned document, one segment per `<seg>` in id order; documents
  with a `testsuite` attribute are skipped;
- each translator is a reference, in the order translators first appear in the file (the
  first is `Document.reference`); a translator who gave no text for a segment leaves ""
  there; their names are `TestSet.reference_names` (`ref` for a `<ref>` without one);
- a segment no translator translated is left out, with its outputs, as sacrebleu leaves
  it out (a document left without segments is left out); a document without any `<ref>`
  (a source-only file) keeps all its segments and has no reference;
- `origlang` and `domain` go to `Document.meta`; every `<hyp system=...>` is a system
  output (`TestSet.outputs`), scored with `--system NAME=data:NAME`;
- segment text is sacrebleu's: whitespace runs made one space, ends trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from evalkit.corpus.formats.common import bcp47, check_doc_id, check_system_name, clean_segment
from evalkit.corpus.model import Document, Side, SystemOutputs, TestSet
from evalkit.errors import UserInputError

#: the name of a translator that a `<ref>` does not name (sacrebleu's field `ref`)
UNNAMED_TRANSLATOR = "ref"

#: id -> (raw text, line): raw so that "has a reference" is decided as sacrebleu decides
Segments = dict[int, tuple[str, int | None]]


@dataclass
class _ReadDocument:
    document: Document
    hyps: dict[str, tuple[str, ...]]


def load_wmt_xml(path: Path, tgt_lang: str) -> TestSet:
    """The test set of a WMT XML file; `tgt_lang` (--tgt-lang) is only used when neither a
    `<ref>` nor a `<hyp>` names the target language (a source-only file)."""
    root = _parse(path)
    if root.tag != "dataset":
        raise UserInputError(
            f"not a WMT XML test set: the root element is <{root.tag}>, expected <dataset>",
            path,
            root.sourceline,
        )
    translators = _translators(root)
    target = _target_language(root, path) or bcp47(tgt_lang, "--tgt-lang", path)
    read = [
        _read_document(doc, path, target, translators)
        for doc in root.iter("doc")
        if "testsuite" not in doc.attrib
    ]
    _check_unique_ids(root, path)
    # a document none of whose segments has a reference is left out whole, as by sacrebleu
    read = [r for r in read if r.document.source.segments]
    if not read:
        raise UserInputError("no segment to evaluate outside test suites", path)
    return TestSet(
        name=path.stem,
        origin=str(path),
        tgt_lang=target,
        documents=tuple(r.document for r in read),
        outputs=_outputs(read, root, path),
        reference_names=tuple(translators),
    )


def _parse(path: Path) -> etree._Element:
    """The root element; a syntax error names lxml's line. Entities are not expanded and
    nothing is fetched: a test set is data, never a request to read other files."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as error:
        raise UserInputError(f"invalid XML: {error.msg}", path, error.lineno) from None
    except OSError as error:
        raise UserInputError(f"cannot read: {error}", path) from None


def _translators(root: etree._Element) -> list[str]:
    """Every translator, in the order of their first `<ref>` (test suites included, as in
    sacrebleu: they only name translators)."""
    names = [ref.get("translator") or UNNAMED_TRANSLATOR for ref in root.iter("ref")]
    return list(dict.fromkeys(names))


def _target_language(root: etree._Element, path: Path) -> str | None:
    """The one language of every `<ref>` (or, without any, of every `<hyp>`)."""
    for tag in ("ref", "hyp"):
        langs = {(el.get("lang") or "") for el in root.iter(tag)}
        if len(langs) > 1:
            raise UserInputError(
                f"<{tag}> elements in several languages ({', '.join(sorted(langs))}): a "
                "test set has one target language",
                path,
            )
        if langs:
            (lang,) = langs
            first = next(root.iter(tag))
            if not lang:
                raise UserInputError(f"<{tag}> without a lang attribute", path, first.sourceline)
            return bcp47(lang, f"<{tag} lang>", path, first.sourceline)
    return None


def _read_document(
    doc: etree._Element, path: Path, tgt_lang: str, translators: list[str]
) -> _ReadDocument:
    line = doc.sourceline
    doc_id = check_doc_id(_attribute(doc, "id", path), path, line)
    sources = doc.findall(".//src")
    if len(sources) != 1:
        raise UserInputError(
            f"document {doc_id!r} has {len(sources)} <src> elements, expected one", path, line
        )
    src = sources[0]
    src_lang = bcp47(_attribute(src, "lang", path), "<src lang>", path, src.sourceline)
    src_segments = _segments(src, path, None)
    refs = _by_attribute(doc, "ref", "translator", doc_id, path, src_segments)
    hyps = _by_attribute(doc, "hyp", "system", doc_id, path, src_segments)
    for system in hyps:
        check_system_name(system, path, line)
    ids = sorted(src_segments)
    if refs:  # as sacrebleu: a segment without any reference text is not evaluated
        ids = [i for i in ids if any(segs.get(i, ("", None))[0] for segs in refs.values())]
    for system, segs in hyps.items():
        missing = [i for i in ids if i not in segs]
        if missing:
            raise UserInputError(
                f"system {system!r} has no segment {missing[0]} of document {doc_id!r}",
                path,
                line,
            )
    references = [
        Side(lang=tgt_lang, segments=_texts(refs.get(name, {}), ids, path), path=str(path))
        for name in translators
    ]
    meta = tuple((key, doc.get(key, "")) for key in ("origlang", "domain") if doc.get(key))
    document = Document(
        id=doc_id,
        source=Side(lang=src_lang, segments=_texts(src_segments, ids, path), path=str(path)),
        reference=references[0] if refs else None,
        aligned=True,
        more_references=tuple(references[1:]) if refs else (),
        meta=meta,
    )
    return _ReadDocument(document, {name: _texts(segs, ids, path) for name, segs in hyps.items()})


def _attribute(element: etree._Element, name: str, path: Path) -> str:
    value = element.get(name)
    if not value:
        raise UserInputError(
            f"<{element.tag}> without its {name} attribute", path, element.sourceline
        )
    return value


def _segments(element: etree._Element, path: Path, source: Segments | None) -> Segments:
    """The `<seg>`s under an element by id; ids must be numbers, once each, and (for a
    reference or an output) ids of the source."""
    found: Segments = {}
    for seg in element.iter("seg"):
        raw = seg.get("id")
        try:
            seg_id = int(raw or "")
        except ValueError:
            raise UserInputError(
                f"<seg> id {raw!r} is not a number" if raw else "<seg> without an id",
                path,
                seg.sourceline,
            ) from None
        if seg_id in found:
            raise UserInputError(f"segment id {seg_id} appears twice", path, seg.sourceline)
        if source is not None and seg_id not in source:
            raise UserInputError(
                f"segment id {seg_id} is not a segment of the document's <src>",
                path,
                seg.sourceline,
            )
        found[seg_id] = (seg.text or "", seg.sourceline)
    return found


def _by_attribute(
    doc: etree._Element, tag: str, key: str, doc_id: str, path: Path, source: Segments
) -> dict[str, Segments]:
    """The `<ref>`s by translator or `<hyp>`s by system of one document."""
    found: dict[str, Segments] = {}
    for element in doc.findall(f".//{tag}"):
        name = element.get(key) or (UNNAMED_TRANSLATOR if tag == "ref" else "")
        if not name:
            raise UserInputError(f"<{tag}> without its {key} attribute", path, element.sourceline)
        if name in found:
            raise UserInputError(
                f"document {doc_id!r} has two <{tag}> of {key} {name!r}", path, element.sourceline
            )
        found[name] = _segments(element, path, source)
    return found


def _texts(segments: Segments, ids: list[int], path: Path) -> tuple[str, ...]:
    texts = []
    for i in ids:
        raw, line = segments.get(i, ("", None))
        texts.append(clean_segment(raw, path, line))
    return tuple(texts)


def _check_unique_ids(root: etree._Element, path: Path) -> None:
    seen: set[str] = set()
    for doc in root.iter("doc"):
        if "testsuite" in doc.attrib:
            continue
        doc_id = doc.get("id", "")
        if doc_id in seen:
            raise UserInputError(f"document id {doc_id!r} appears twice", path, doc.sourceline)
        seen.add(doc_id)


def _outputs(
    read: list[_ReadDocument], root: etree._Element, path: Path
) -> tuple[SystemOutputs, ...]:
    """One `SystemOutputs` per system, in the order systems first appear; a system must
    have a `<hyp>` in every document evaluated."""
    systems = list(dict.fromkeys(name for r in read for name in r.hyps))
    outputs = []
    for system in systems:
        documents = []
        for r in read:
            if system not in r.hyps:
                line = next(
                    (d.sourceline for d in root.iter("doc") if d.get("id") == r.document.id),
                    None,
                )
                raise UserInputError(
                    f"system {system!r} has no <hyp> in document {r.document.id!r}", path, line
                )
            documents.append((r.document.id, r.hyps[system]))
        outputs.append(SystemOutputs(name=system, documents=tuple(documents)))
    return tuple(outputs)
