"""Score hypotheses: which texts are compared, and the numbers at three levels.

A scoring unit is the smallest piece a score is about. For a document whose reference
follows the source line by line, a unit is one line pair. For a document whose reference
does not (edited, split or merged paragraphs), the only honest unit is the whole
document, paragraphs joined. A document without reference gives one unit per source
segment, scored only by reference-free metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evalkit.corpus.model import Document, TestSet
from evalkit.metrics.base import Metric

SCORED_AS_SEGMENTS = "segments"
SCORED_AS_DOCUMENT = "document"
SCORED_AS_NONE = "none"


@dataclass(frozen=True)
class ScoringUnit:
    doc_id: str
    src_ids: tuple[int, ...]  # 1-based source segment numbers
    ref_ids: tuple[int, ...]  # 1-based reference segment numbers; empty without reference
    src: str
    ref: str | None


def scored_as(doc: Document) -> str:
    if doc.reference is None:
        return SCORED_AS_NONE
    return SCORED_AS_SEGMENTS if doc.aligned else SCORED_AS_DOCUMENT


def scoring_units(test_set: TestSet) -> list[ScoringUnit]:
    units: list[ScoringUnit] = []
    for doc in test_set.documents:
        src = doc.source.segments
        how = scored_as(doc)
        if how == SCORED_AS_DOCUMENT:
            assert doc.reference is not None
            ref = doc.reference.segments
            units.append(
                ScoringUnit(
                    doc.id,
                    tuple(range(1, len(src) + 1)),
                    tuple(range(1, len(ref) + 1)),
                    " ".join(src),
                    " ".join(ref),
                )
            )
            continue
        for i, text in enumerate(src, start=1):
            if how == SCORED_AS_SEGMENTS:
                assert doc.reference is not None
                units.append(ScoringUnit(doc.id, (i,), (i,), text, doc.reference.segments[i - 1]))
            else:
                units.append(ScoringUnit(doc.id, (i,), (), text, None))
    return units


def unit_hypotheses(units: Sequence[ScoringUnit], hypotheses: dict[str, list[str]]) -> list[str]:
    """The hypothesis text of each unit: its source segments' outputs, joined."""
    return [" ".join(hypotheses[u.doc_id][i - 1] for i in u.src_ids) for u in units]


Score = float | None


@dataclass
class SystemScores:
    corpus: dict[str, Score] = field(default_factory=dict)
    documents: dict[str, dict[str, Score]] = field(default_factory=dict)
    segments: list[dict[str, Score]] = field(default_factory=list)


def score_system(
    units: Sequence[ScoringUnit], hypotheses: Sequence[str], metrics: Sequence[Metric]
) -> SystemScores:
    """Corpus, per-document and per-unit scores of one system; None where not applicable."""
    doc_ids = list(dict.fromkeys(u.doc_id for u in units))
    result = SystemScores(
        documents={doc_id: {} for doc_id in doc_ids}, segments=[{} for _ in units]
    )
    for metric in metrics:
        rows = [i for i, u in enumerate(units) if u.ref is not None or not metric.needs_reference]
        stats = (
            metric.segment_statistics(
                [hypotheses[i] for i in rows],
                [units[i].ref or "" for i in rows] if metric.needs_reference else None,
                [units[i].src for i in rows],
            )
            if rows
            else []
        )
        by_row = dict(zip(rows, stats, strict=True))
        result.corpus[metric.name] = metric.corpus_score(stats) if stats else None
        for doc_id in doc_ids:
            doc_stats = [s for i, s in by_row.items() if units[i].doc_id == doc_id]
            result.documents[doc_id][metric.name] = (
                metric.corpus_score(doc_stats) if doc_stats else None
            )
        for i in range(len(units)):
            result.segments[i][metric.name] = (
                metric.segment_score(by_row[i]) if i in by_row else None
            )
    return result
