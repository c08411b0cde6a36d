"""The score stage: each system's numbers at three levels (corpus, document, unit).

Statistics are computed per unit and per metric, read from the statistics store where
any run computed them before, and summed into corpus and document scores by the metric.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from evalkit.align.units import ScoringUnit
from evalkit.metrics.base import Metric, Stats


def count_references(metrics: Sequence[Metric], references: Sequence[Sequence[str]]) -> None:
    """Tell each metric how many references its segments have, before any signature is
    read: signatures name it (`nrefs:2`, `nrefs:var`)."""
    counts = {len(refs) for refs in references}
    for metric in metrics:
        metric.count_references(counts)


def unit_hypotheses(
    units: Sequence[ScoringUnit],
    hypotheses: dict[str, list[str]],
    unit_translations: dict[str, list[list[str]]] | None = None,
) -> list[str]:
    """The hypothesis text of each unit: its source segments' outputs, joined; for a unit
    of sentences, those sentences' translations (from `unit_translations`), joined."""
    out = []
    for u in units:
        if u.sentence_positions:
            if unit_translations is None:
                raise ValueError("sentence units need the translation of each sentence")
            line_units = unit_translations[u.doc_id]
            out.append(" ".join(line_units[line][k] for line, k in u.sentence_positions))
        else:
            out.append(" ".join(hypotheses[u.doc_id][i - 1] for i in u.src_ids))
    return out


Score = float | None


@dataclass
class SystemScores:
    corpus: dict[str, Score] = field(default_factory=dict)
    documents: dict[str, dict[str, Score]] = field(default_factory=dict)
    segments: list[dict[str, Score]] = field(default_factory=list)
    #: per segment, per metric that marks them, the error spans in the hypothesis
    spans: list[dict[str, list[dict[str, object]]]] = field(default_factory=list)


class StatisticsStore(Protocol):
    """Where segment statistics outlive the process (the cache file's statistics table)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, Stats]: ...

    def put_many(self, stats: dict[str, Stats]) -> None: ...


References = tuple[str, ...]


def statistics_key(
    signature: str, hypothesis: str, references: References | None, source: str
) -> str:
    """Statistics are a function of the metric (its signature says everything that changes
    them) and the texts: the key hashes exactly those. One reference is keyed as its text
    (the keys of one-reference runs stay as they were), several as a list."""
    reference: str | list[str] | None = None
    if references is not None:
        reference = references[0] if len(references) == 1 else list(references)
    blob = json.dumps([signature, hypothesis, reference, source], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


#: segments handed to a per-segment metric at a time: what a neural metric holds at once
#: (BERTScore's token embeddings of a chunk's texts, about 120 MB for 1,024 segments of 40
#: words) stays the same at 1,000 segments and at 100,000, and each chunk is stored as soon
#: as it is computed. Large enough that length batching inside a chunk fills its batches.
CHUNK_SEGMENTS = 1024


def _compute(
    metric: Metric,
    hypotheses: Sequence[str],
    references: Sequence[References] | None,
    sources: Sequence[str],
) -> list[Stats]:
    """The metric's own call: one reference per segment as plain texts (the metric's
    first interface), several through `multi_reference_statistics`."""
    if references is None:
        return metric.segment_statistics(hypotheses, None, sources)
    if all(len(refs) == 1 for refs in references):
        return metric.segment_statistics(hypotheses, [refs[0] for refs in references], sources)
    return metric.multi_reference_statistics(hypotheses, references, sources)


def segment_statistics(
    metric: Metric,
    hypotheses: Sequence[str],
    references: Sequence[References] | None,
    sources: Sequence[str],
    store: StatisticsStore | None = None,
) -> list[Stats]:
    """The metric's statistics of each segment (against every reference of the segment),
    read from `store` where computed before; only the missing segments reach the metric
    (so a model loads only when one is missing), and what it computes is stored at once."""
    if not hypotheses:
        return []
    if not metric.per_segment:
        return _compute(metric, hypotheses, references, sources)
    if store is None:
        rows: list[Stats] = []
        for start in range(0, len(hypotheses), CHUNK_SEGMENTS):
            end = start + CHUNK_SEGMENTS
            part = references[start:end] if references is not None else None
            rows += _compute(metric, hypotheses[start:end], part, sources[start:end])
        return rows
    signature = metric.signature()
    keys = [
        statistics_key(signature, hyp, references[i] if references is not None else None, src)
        for i, (hyp, src) in enumerate(zip(hypotheses, sources, strict=True))
    ]
    found = store.get_many(list(dict.fromkeys(keys)))
    first_of_key: dict[str, int] = {}
    for i, key in enumerate(keys):
        first_of_key.setdefault(key, i)
    missing = [i for key, i in first_of_key.items() if key not in found]
    for start in range(0, len(missing), CHUNK_SEGMENTS):
        chunk = missing[start : start + CHUNK_SEGMENTS]
        computed = _compute(
            metric,
            [hypotheses[i] for i in chunk],
            [references[i] for i in chunk] if references is not None else None,
            [sources[i] for i in chunk],
        )
        fresh = {keys[i]: list(row) for i, row in zip(chunk, computed, strict=True)}
        store.put_many(fresh)  # a run stopped later keeps what is done
        found.update(fresh)
    return [list(found[key]) for key in keys]


#: told (segments done, segments in all) after each chunk of a per-segment metric, all
#: systems counted: what a progress line during a long neural metric reports
ChunkCallback = Callable[[int, int], None]


def score_systems(
    units: Sequence[ScoringUnit],
    hypotheses: Sequence[Sequence[str]],
    metrics: Sequence[Metric],
    store: StatisticsStore | None = None,
    on_chunk: ChunkCallback | None = None,
) -> list[SystemScores]:
    """Corpus, per-document and per-unit scores of each system (one list of hypotheses per
    system, one per unit); None where not applicable. With a `store`, statistics computed
    before (by any run, any system) are reused.

    Metric by metric, the systems go to the metric together, a chunk of units at a time
    with every system's output of those units: a reference or a source is embedded once
    for all systems while the metric's in-process cache holds a chunk, not a test set."""
    results = [empty_scores(units) for _ in hypotheses]
    for metric in metrics:
        rows = [i for i, u in enumerate(units) if u.scorable_by(metric.needs_reference)]
        for result, system_hyps, stats in zip(
            results,
            hypotheses,
            _statistics_of_systems(metric, units, rows, hypotheses, store, on_chunk),
            strict=True,
        ):
            _add_scores(result, metric, units, dict(zip(rows, stats, strict=True)), system_hyps)
    return results


def score_system(
    units: Sequence[ScoringUnit],
    hypotheses: Sequence[str],
    metrics: Sequence[Metric],
    store: StatisticsStore | None = None,
) -> SystemScores:
    """`score_systems` of one system."""
    return score_systems(units, [hypotheses], metrics, store)[0]


def empty_scores(units: Sequence[ScoringUnit]) -> SystemScores:
    """Scores with a place for every document and unit and no metric yet."""
    return SystemScores(
        documents={u.doc_id: {} for u in units},
        segments=[{} for _ in units],
        spans=[{} for _ in units],
    )


def _statistics_of_systems(
    metric: Metric,
    units: Sequence[ScoringUnit],
    rows: Sequence[int],
    hypotheses: Sequence[Sequence[str]],
    store: StatisticsStore | None,
    on_chunk: ChunkCallback | None = None,
) -> list[list[Stats]]:
    """Each system's statistics of the units `rows`. A per-segment metric is handed the
    systems' segments of a chunk of units together (at most CHUNK_SEGMENTS in all); a
    metric that looks at the whole set sees each system's set alone."""

    def of(pairs: Sequence[tuple[int, int]]) -> list[Stats]:
        return segment_statistics(
            metric,
            [hypotheses[system][i] for system, i in pairs],
            [units[i].references for _, i in pairs] if metric.needs_reference else None,
            [units[i].src for _, i in pairs],
            store,
        )

    if not metric.per_segment:
        return [of([(system, i) for i in rows]) for system in range(len(hypotheses))]
    out: list[list[Stats]] = [[] for _ in hypotheses]
    step = max(1, CHUNK_SEGMENTS // max(1, len(hypotheses)))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        stats = of([(system, i) for system in range(len(hypotheses)) for i in chunk])
        for system in range(len(hypotheses)):
            out[system] += stats[system * len(chunk) : (system + 1) * len(chunk)]
        if on_chunk is not None:
            on_chunk(len(out[0]) * len(hypotheses), len(rows) * len(hypotheses))
    return out


def _add_scores(
    result: SystemScores,
    metric: Metric,
    units: Sequence[ScoringUnit],
    by_row: dict[int, Stats],
    hypotheses: Sequence[str],
) -> None:
    """One metric's corpus, document and unit scores (and error spans) into `result`."""
    stats = list(by_row.values())
    result.corpus[metric.name] = metric.corpus_score(stats) if stats else None
    by_document: dict[str, list[Stats]] = {doc_id: [] for doc_id in result.documents}
    for i, row in by_row.items():
        by_document[units[i].doc_id].append(row)
    for doc_id, doc_stats in by_document.items():
        result.documents[doc_id][metric.name] = (
            metric.corpus_score(doc_stats) if doc_stats else None
        )
    for i in range(len(units)):
        result.segments[i][metric.name] = metric.segment_score(by_row[i]) if i in by_row else None
        spans = metric.segment_spans(by_row[i], hypotheses[i]) if i in by_row else None
        if spans is not None:
            result.spans[i][metric.name] = spans
