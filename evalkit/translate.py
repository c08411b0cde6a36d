"""Get one hypothesis line per source segment of every document from a system.

Engines translate units (sentences or whole paragraphs). Units go through the cache
first; what is missing is sorted by length (a batch decodes until its longest member
ends, so similar lengths waste less), translated batch by batch, and stored in the cache
as each batch completes. The translated units of a paragraph are then joined back into
one line, so every later stage sees hypotheses laid out exactly like the source.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from evalkit.cache import TranslationCache, cache_key
from evalkit.corpus.model import TestSet
from evalkit.corpus.segment import split_sentences
from evalkit.engines.base import PrecomputedSystem, System, TranslationEngine

Unit = Literal["sentence", "paragraph"]


@dataclass
class Progress:
    done: int
    total: int
    generated_tokens: int = 0
    seconds: float = 0.0


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class _Piece:
    doc_id: str
    segment: int  # 0-based segment index within the document
    lang: str
    text: str


@dataclass
class SystemOutput:
    """Hypotheses plus what it took to get them."""

    hypotheses: dict[str, list[str]]
    #: per document and source line, the translation of each unit of the line (its
    #: sentences with --unit sentence); None for systems that give whole lines (files)
    pieces: dict[str, list[list[str]]] | None = None
    units: int = 0
    cache_hits: int = 0
    translated: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def translation_units(test_set: TestSet, unit: Unit) -> list[_Piece]:
    """Every non-blank unit of the test set, in document and reading order."""
    pieces: list[_Piece] = []
    for doc in test_set.documents:
        lang = doc.source.lang
        for index, paragraph in enumerate(doc.source.segments):
            if not paragraph.strip():
                continue
            if unit == "sentence":
                texts = [span.text for span in split_sentences(paragraph, lang)]
            else:
                texts = [paragraph.strip()]
            pieces.extend(_Piece(doc.id, index, lang, text) for text in texts)
    return pieces


def system_hypotheses(
    system: System,
    test_set: TestSet,
    unit: Unit = "sentence",
    cache: TranslationCache | None = None,
    on_progress: ProgressCallback | None = None,
) -> SystemOutput:
    """Map document id to hypothesis lines (one per source segment)."""
    started = time.perf_counter()
    if isinstance(system, PrecomputedSystem):
        hypotheses = system.hypotheses(test_set)
        total = sum(len(lines) for lines in hypotheses.values())
        if on_progress:
            on_progress(Progress(total, total))
        return SystemOutput(hypotheses, units=total, seconds=time.perf_counter() - started)
    if not isinstance(system, TranslationEngine):
        raise TypeError(f"{type(system).__name__} is neither an engine nor precomputed")

    pieces = translation_units(test_set, unit)
    engine = system.fingerprint_hash()
    tgt = test_set.tgt_lang
    # one entry per distinct (language, text): repeated lines are translated once
    distinct = list(dict.fromkeys((p.lang, p.text) for p in pieces))
    keys = {item: cache_key(engine, item[0], tgt, item[1]) for item in distinct}
    found = cache.get_many(list(keys.values())) if cache else {}
    translations = {item: found[keys[item]] for item in distinct if keys[item] in found}
    todo = [item for item in distinct if item not in translations]
    todo.sort(key=lambda item: (item[0], -len(item[1])))
    output = SystemOutput({}, units=len(pieces), cache_hits=len(distinct) - len(todo))
    tokens_before = system.generated_tokens
    done = output.cache_hits

    def report() -> None:
        if on_progress:
            on_progress(
                Progress(
                    done,
                    len(distinct),
                    system.generated_tokens - tokens_before,
                    time.perf_counter() - started,
                )
            )

    report()
    for batch in _batches(todo, system.batch_size):
        lang = batch[0][0]
        result = system.translate([text for _, text in batch], lang, tgt)
        if len(result) != len(batch):
            raise RuntimeError(
                f"{system.kind} returned {len(result)} translations for {len(batch)} segments"
            )
        translations.update(zip(batch, result, strict=True))
        if cache:
            cache.put_many(
                engine,
                lang,
                tgt,
                [(text, hyp) for (_, text), hyp in zip(batch, result, strict=True)],
            )
        done += len(batch)
        report()
    system.close()
    output.translated = len(todo)
    output.generated_tokens = system.generated_tokens - tokens_before
    output.seconds = time.perf_counter() - started
    output.pieces = _reassemble(test_set, pieces, [translations[(p.lang, p.text)] for p in pieces])
    output.hypotheses = {
        doc_id: [" ".join(part for part in line if part) for line in lines]
        for doc_id, lines in output.pieces.items()
    }
    return output


def _batches(items: list[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    """Consecutive batches of at most `size` that never mix source languages."""
    batches: list[list[tuple[str, str]]] = []
    for item in items:
        if batches and len(batches[-1]) < size and batches[-1][0][0] == item[0]:
            batches[-1].append(item)
        else:
            batches.append([item])
    return batches


def _reassemble(
    test_set: TestSet, pieces: list[_Piece], outputs: list[str]
) -> dict[str, list[list[str]]]:
    """Per document and source line, the translations of the line's units in order."""
    parts: dict[str, list[list[str]]] = {
        doc.id: [[] for _ in doc.source.segments] for doc in test_set.documents
    }
    for piece, text in zip(pieces, outputs, strict=True):
        parts[piece.doc_id][piece.segment].append(text.strip())
    return parts
