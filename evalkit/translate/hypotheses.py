"""Get one hypothesis line per source segment of every document from a system.

Engines translate units (sentences or whole paragraphs). Units go through the cache
first; what is missing is sorted by length (a batch decodes until its longest member
ends, so similar lengths waste less), handed to the engine batch by batch, and stored in
the cache as soon as the engine hands each translation back (a served model: request by
request). The translated units of a paragraph are then joined back into one line, so
every later stage sees hypotheses laid out exactly like the source.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from evalkit.cache import TranslationCache, cache_key
from evalkit.corpus.model import TestSet
from evalkit.engines.base import (
    PrecomputedSystem,
    RequestPlan,
    RequestStats,
    System,
    Translation,
    TranslationEngine,
)
from evalkit.errors import ServiceError, UnitFailed

Unit = Literal["sentence", "paragraph"]


@dataclass
class Progress:
    done: int
    total: int
    generated_tokens: int = 0
    seconds: float = 0.0
    #: requests sent to a server so far (0 for engines that run in this process)
    requests: int = 0


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class _SourceUnit:
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
    unit_translations: dict[str, list[list[str]]] | None = None
    units: int = 0
    cache_hits: int = 0
    translated: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    #: per document, the 0-based source lines with a unit the generation cap cut off
    truncated: dict[str, set[int]] = field(default_factory=dict)
    #: what a served engine sent in this run (None: an engine in this process)
    requests: RequestStats | None = None

    @property
    def truncated_units(self) -> int:
        return sum(len(lines) for lines in self.truncated.values())


def translation_units(test_set: TestSet, unit: Unit) -> list[_SourceUnit]:
    """Every non-blank unit of the test set, in document and reading order."""
    source_units: list[_SourceUnit] = []
    for doc in test_set.documents:
        lang = doc.source.lang
        for index, paragraph in enumerate(doc.source.segments):
            if not paragraph.strip():
                continue
            texts = doc.source.sentences(index) if unit == "sentence" else (paragraph.strip(),)
            source_units.extend(_SourceUnit(doc.id, index, lang, text) for text in texts)
    return source_units


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

    found = _look_up(system, test_set, unit, cache)
    source_units, engine, todo = found.source_units, found.engine, found.todo
    translations = dict(found.cached)  # gains each translation as it is done
    tgt = test_set.tgt_lang
    output = SystemOutput({}, units=len(source_units), cache_hits=len(translations))
    tokens_before = system.generated_tokens
    stats_before = system.request_stats()
    stats_before = RequestStats(**vars(stats_before)) if stats_before else None
    progress = Progress(output.cache_hits, found.distinct)

    def report() -> None:
        if on_progress:
            progress.generated_tokens = system.generated_tokens - tokens_before
            progress.seconds = time.perf_counter() - started
            stats = system.request_stats()
            progress.requests = stats.requests - stats_before.requests if stats_before else 0
            on_progress(progress)

    report()
    try:
        for batch in _batches(todo, system.batch_size):
            lang = batch[0][0]

            def store(index: int, translation: Translation, batch=batch, lang=lang) -> None:
                translations[batch[index]] = translation
                if cache:
                    cache.put_many(engine, lang, tgt, [(batch[index][1], translation)])
                progress.done += 1
                report()

            try:
                system.translate_each([text for _, text in batch], lang, tgt, store)
            except UnitFailed as failure:
                raise ServiceError(
                    _where(source_units, batch[failure.index]) + f": {failure.reason}"
                ) from None
    finally:
        system.close()
    output.translated = len(todo)
    output.generated_tokens = system.generated_tokens - tokens_before
    output.requests = _stats_since(stats_before, system.request_stats())
    output.seconds = time.perf_counter() - started
    ordered = [translations[(p.lang, p.text)] for p in source_units]
    output.unit_translations = _reassemble(test_set, source_units, [t.text for t in ordered])
    for source_unit, translation in zip(source_units, ordered, strict=True):
        if translation.truncated:
            output.truncated.setdefault(source_unit.doc_id, set()).add(source_unit.segment)
    output.hypotheses = {
        doc_id: [" ".join(part for part in line if part) for line in lines]
        for doc_id, lines in output.unit_translations.items()
    }
    return output


@dataclass(frozen=True)
class TranslationPlan:
    """What translating a test set with one system would take, before any of it is done."""

    units: int
    distinct: int
    cached: int
    #: for served engines: the requests and prompt tokens the missing units would send
    requests: RequestPlan | None = None

    @property
    def to_translate(self) -> int:
        return self.distinct - self.cached


def plan_translation(
    system: System,
    test_set: TestSet,
    unit: Unit = "sentence",
    cache: TranslationCache | None = None,
) -> TranslationPlan:
    """Count units, cache hits and (served engines) requests and tokens; translate nothing."""
    if not isinstance(system, TranslationEngine):
        lines = sum(len(doc.source.segments) for doc in test_set.documents)
        return TranslationPlan(lines, lines, lines)
    found = _look_up(system, test_set, unit, cache)
    tgt = test_set.tgt_lang
    # nothing missing: one empty batch still tells a served engine from a local one
    batches = _batches(found.todo, len(found.todo)) or [[]]
    plans = [
        system.plan([text for _, text in batch], batch[0][0] if batch else "", tgt)
        for batch in batches
    ]
    served = [plan for plan in plans if plan is not None]
    requests = None
    if len(served) == len(plans):
        requests = RequestPlan(
            requests=sum(p.requests for p in served),
            prompt_tokens=sum(p.prompt_tokens for p in served),
            exact=all(p.exact for p in served),
            max_completion_tokens=sum(p.max_completion_tokens for p in served),
        )
    return TranslationPlan(len(found.source_units), found.distinct, len(found.cached), requests)


@dataclass
class _Lookup:
    """A test set's units for one engine, split into those in the cache and the rest."""

    source_units: list[_SourceUnit]
    engine: str  # the fingerprint hash that keys the cache
    distinct: int
    cached: dict[tuple[str, str], Translation]
    #: (language, text) still to translate, longest first within a language
    todo: list[tuple[str, str]]


def _look_up(
    system: TranslationEngine, test_set: TestSet, unit: Unit, cache: TranslationCache | None
) -> _Lookup:
    source_units = translation_units(test_set, unit)
    engine = system.fingerprint_hash()
    tgt = test_set.tgt_lang
    # one entry per distinct (language, text): repeated lines are translated once
    distinct = list(dict.fromkeys((p.lang, p.text) for p in source_units))
    keys = {item: cache_key(engine, item[0], tgt, item[1]) for item in distinct}
    found = cache.get_many(list(keys.values())) if cache else {}
    cached = {item: found[keys[item]] for item in distinct if keys[item] in found}
    todo = [item for item in distinct if item not in cached]
    todo.sort(key=lambda item: (item[0], -len(item[1])))
    return _Lookup(source_units, engine, len(distinct), cached, todo)


def _where(source_units: list[_SourceUnit], item: tuple[str, str]) -> str:
    """`doc line N` of the first unit with this text: where a failed request came from."""
    for source_unit in source_units:
        if (source_unit.lang, source_unit.text) == item:
            return f"{source_unit.doc_id} line {source_unit.segment + 1}"
    return "a unit"


def _stats_since(before: RequestStats | None, now: RequestStats | None) -> RequestStats | None:
    if before is None or now is None:
        return None
    return RequestStats(**{name: getattr(now, name) - getattr(before, name) for name in vars(now)})


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
    test_set: TestSet, source_units: list[_SourceUnit], outputs: list[str]
) -> dict[str, list[list[str]]]:
    """Per document and source line, the translations of the line's units in order."""
    parts: dict[str, list[list[str]]] = {
        doc.id: [[] for _ in doc.source.segments] for doc in test_set.documents
    }
    for source_unit, text in zip(source_units, outputs, strict=True):
        parts[source_unit.doc_id][source_unit.segment].append(text.strip())
    return parts
