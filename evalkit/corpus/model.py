"""The plain data every later stage works on: a test set is documents, a document two sides.

Segments are kept exactly as read (one per non-empty line for documents, one per line for
line-aligned parallel files), so that scores can always be traced back to the input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from evalkit.corpus.segment import sentences


@dataclass(frozen=True)
class Side:
    """One side of a document: its language, its segments and the file they came from."""

    lang: str
    segments: tuple[str, ...]
    path: str | None = None

    def sentences(self, index: int) -> tuple[str, ...]:
        """The sentences of segment `index` (0-based), split the one way every stage
        reads them (`corpus.segment.sentences`)."""
        return sentences(self.segments[index], self.lang)


@dataclass(frozen=True)
class Document:
    """A source text and, optionally, its human reference translations.

    `aligned` says whether reference segment i translates source segment i. When it is
    false the two sides are only known to translate each other as wholes.

    `reference` is the first reference; `more_references` holds the others (a second
    translator, as NIST and WMT test sets have), all in the target language. In an
    aligned document a further reference may leave a segment empty ("") where its
    translator gave none: the number of references may vary by segment, as in sacrebleu.
    `meta` keeps what the input said about the document (`origlang`, `domain`).
    """

    id: str
    source: Side
    reference: Side | None = None
    aligned: bool = False
    more_references: tuple[Side, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()

    @property
    def references(self) -> tuple[Side, ...]:
        """Every reference, the first one first; empty without reference."""
        if self.reference is None:
            return ()
        return (self.reference, *self.more_references)


@dataclass(frozen=True)
class SystemOutputs:
    """One system's translations as a test-set file carries them (WMT XML `<hyp>`, the
    `system-outputs/` of mt-metrics-eval): one line per source segment of each document.

    They are what the `data:NAME` system reads, so a published system can be scored again
    without copying its output into files first.
    """

    name: str
    #: (document id, lines), in the test set's document order
    documents: tuple[tuple[str, tuple[str, ...]], ...]

    def lines(self, doc_id: str) -> tuple[str, ...] | None:
        """The lines of one document, or None when this system has none for it."""
        for found, lines in self.documents:
            if found == doc_id:
                return lines
        return None

    def digest(self) -> str:
        """sha256 over the name and every line: changes whenever the outputs change."""
        blob = json.dumps([self.name, self.documents], ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class TestSet:
    """A named list of documents, all to be translated into `tgt_lang`.

    `outputs` and `reference_names` describe what the file held besides the test set (the
    systems it carries, the translators of its references, in reference order); they take
    no part in equality or in `content_hash`, so the same documents read from a file with
    or without system outputs are the same test set.
    """

    __test__ = False  # not a pytest test class, despite its name

    name: str
    origin: str
    tgt_lang: str
    documents: tuple[Document, ...] = field(default_factory=tuple)
    outputs: tuple[SystemOutputs, ...] = field(default=(), compare=False)
    #: who made each reference (a WMT `translator`, mt-metrics-eval's `refA`), when known
    reference_names: tuple[str, ...] = field(default=(), compare=False)

    def content_hash(self) -> str:
        """sha256 over the content only (not the name or where it was read from).

        Two runs can be compared only when this hash is the same: it changes when any
        segment, language or pairing changes.
        """
        payload = {
            "tgt_lang": self.tgt_lang,
            "documents": [
                {
                    "id": doc.id,
                    "src_lang": doc.source.lang,
                    "source": list(doc.source.segments),
                    "reference": list(doc.reference.segments) if doc.reference else None,
                    "aligned": doc.aligned,
                    # only when present, so a one-reference test set keeps its hash
                    **(
                        {"more_references": [list(r.segments) for r in doc.more_references]}
                        if doc.more_references
                        else {}
                    ),
                }
                for doc in self.documents
            ],
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return "sha256:" + hashlib.sha256(blob).hexdigest()

    def document(self, doc_id: str) -> Document:
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)
