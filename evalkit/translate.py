"""Get one hypothesis line per source segment of every document from a system.

Engines translate units (sentences or whole paragraphs); the translated units of a
paragraph are joined back into one line, so every later stage sees hypotheses laid out
exactly like the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from evalkit.corpus.model import TestSet
from evalkit.corpus.segment import split_sentences
from evalkit.engines.base import PrecomputedSystem, System, TranslationEngine

Unit = Literal["sentence", "paragraph"]
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class _Piece:
    doc_id: str
    segment: int  # 0-based segment index within the document
    text: str


def translation_units(test_set: TestSet, unit: Unit) -> list[_Piece]:
    """Every non-blank unit of the test set, in document and reading order."""
    pieces: list[_Piece] = []
    for doc in test_set.documents:
        for index, paragraph in enumerate(doc.source.segments):
            if not paragraph.strip():
                continue
            if unit == "sentence":
                texts = [span.text for span in split_sentences(paragraph, doc.source.lang)]
            else:
                texts = [paragraph.strip()]
            pieces.extend(_Piece(doc.id, index, text) for text in texts)
    return pieces


def system_hypotheses(
    system: System,
    test_set: TestSet,
    unit: Unit = "sentence",
    batch_size: int = 16,
    on_progress: ProgressCallback | None = None,
) -> dict[str, list[str]]:
    """Map document id to hypothesis lines (one per source segment)."""
    if isinstance(system, PrecomputedSystem):
        hypotheses = system.hypotheses(test_set)
        if on_progress:
            total = sum(len(lines) for lines in hypotheses.values())
            on_progress(total, total)
        return hypotheses
    if not isinstance(system, TranslationEngine):
        raise TypeError(f"{type(system).__name__} is neither an engine nor precomputed")
    pieces = translation_units(test_set, unit)
    languages = {doc.id: doc.source.lang for doc in test_set.documents}
    outputs: list[str] = [""] * len(pieces)
    order = sorted(range(len(pieces)), key=lambda i: languages[pieces[i].doc_id])
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        # a batch never mixes source languages: split it where the language changes
        for lang in dict.fromkeys(languages[pieces[i].doc_id] for i in batch):
            members = [i for i in batch if languages[pieces[i].doc_id] == lang]
            translated = system.translate(
                [pieces[i].text for i in members], lang, test_set.tgt_lang
            )
            if len(translated) != len(members):
                raise RuntimeError(
                    f"{system.kind} returned {len(translated)} translations "
                    f"for {len(members)} segments"
                )
            for i, text in zip(members, translated, strict=True):
                outputs[i] = text
        done += len(batch)
        if on_progress:
            on_progress(done, len(pieces))
    return _reassemble(test_set, pieces, outputs)


def _reassemble(
    test_set: TestSet, pieces: list[_Piece], outputs: list[str]
) -> dict[str, list[str]]:
    parts: dict[str, list[list[str]]] = {
        doc.id: [[] for _ in doc.source.segments] for doc in test_set.documents
    }
    for piece, text in zip(pieces, outputs, strict=True):
        parts[piece.doc_id][piece.segment].append(text.strip())
    return {
        doc_id: [" ".join(part for part in segment if part) for segment in segments]
        for doc_id, segments in parts.items()
    }
