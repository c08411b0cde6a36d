"""The plain data every later stage works on: a test set is documents, a document two sides.

Segments are kept exactly as read (one per non-empty line for documents, one per line for
line-aligned parallel files), so that scores can always be traced back to the input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Side:
    """One side of a document: its language, its segments and the file they came from."""

    lang: str
    segments: tuple[str, ...]
    path: str | None = None


@dataclass(frozen=True)
class Document:
    """A source text and, optionally, its human reference translation.

    `aligned` says whether reference segment i translates source segment i. When it is
    false the two sides are only known to translate each other as wholes.
    """

    id: str
    source: Side
    reference: Side | None = None
    aligned: bool = False


@dataclass(frozen=True)
class TestSet:
    """A named list of documents, all to be translated into `tgt_lang`."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    origin: str
    tgt_lang: str
    documents: tuple[Document, ...] = field(default_factory=tuple)

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
