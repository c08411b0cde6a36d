"""The record stage: what a run stores, built from the other stages' plain results.

`evaluate` (evalkit/pipeline/run.py) calls these last: the test set's description, per-row
segments, the alignment links, the notes a reader needs, and the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evalkit.align.units import (
    BELOW_MIN_CONFIDENCE_FLAG,
    SCORED_AS_DOCUMENT,
    ScoringUnit,
    Units,
)
from evalkit.corpus.model import TestSet
from evalkit.engines.base import RequestStats
from evalkit.engines.registry import NamedSystem
from evalkit.metrics.base import Metric
from evalkit.record.environment import environment
from evalkit.record.schema import (
    AlignmentInfo,
    DocumentInfo,
    LinkInfo,
    MetricInfo,
    RunRecord,
    SegmentRow,
    SkippedLineInfo,
    SystemInfo,
    SystemResult,
    TestSetInfo,
)
from evalkit.record.store import new_run_id, utc_now
from evalkit.scoring.system import SystemScores
from evalkit.translate import SystemOutput


@dataclass
class SystemRun:
    """One system's part of a run: what it was, what it gave, and how it scored."""

    named: NamedSystem
    output: SystemOutput
    #: the hypothesis text of each scoring unit
    hypotheses: list[str]
    scores: SystemScores


@dataclass
class RunFacts:
    """What the record says of the run itself, beside the test set and the systems."""

    name: str | None
    command: list[str]
    unit: str
    started: str
    seconds: float
    timings: dict[str, float]
    min_confidence: float | None = None
    #: why each metric that could not load was left out
    skipped: list[str] = field(default_factory=list)


def record_run(
    test_set: TestSet,
    found: Units,
    metrics: Sequence[Metric],
    systems: Sequence[SystemRun],
    facts: RunFacts,
) -> tuple[RunRecord, list[SegmentRow]]:
    """The run's record and its rows, from the other stages' results."""
    units = found.units
    flags = {
        run.named.label: [
            truncation_flags(u, run.output.truncated) + marks
            for u, marks in zip(
                units, unscored_flags(units, metrics, run.scores.segments), strict=True
            )
        ]
        for run in systems
    }
    rows = segment_rows(
        units,
        {run.named.label: run.hypotheses for run in systems},
        {run.named.label: run.scores.segments for run in systems},
        flags,
        {run.named.label: run.scores.spans for run in systems},
    )
    record = RunRecord(
        run_id=new_run_id(facts.name),
        name=facts.name,
        command=facts.command,
        unit=facts.unit,
        started=facts.started,
        finished=utc_now(),
        duration_s=round(facts.seconds, 3),
        test_set=test_set_info(test_set, found),
        systems=[system_info(run) for run in systems],
        metrics=[metric_info(m) for m in metrics],
        scores={
            run.named.label: SystemResult(corpus=run.scores.corpus, documents=run.scores.documents)
            for run in systems
        },
        notes=run_notes(test_set, found, facts.min_confidence)
        + facts.skipped
        + unscored_notes(units, metrics, flags),
        environment=environment(),
        alignment=alignment_info(found, facts.min_confidence),
        timings={stage: round(seconds, 3) for stage, seconds in facts.timings.items()},
        min_confidence=facts.min_confidence,
    )
    return record, rows


def system_info(run: SystemRun) -> SystemInfo:
    output = run.output
    fingerprint = run.named.system.fingerprint()
    return SystemInfo(
        label=run.named.label,
        spec=run.named.spec,
        kind=run.named.system.kind,
        fingerprint=fingerprint,
        fingerprint_hash=run.named.system.fingerprint_hash(),
        seconds=round(output.seconds, 3),
        units=output.units,
        cache_hits=output.cache_hits,
        translated=output.translated,
        generated_tokens=output.generated_tokens,
        truncated=output.truncated_units,
        **request_fields(output.requests),
    )


def segment_rows(
    units: Sequence[ScoringUnit],
    hypotheses: dict[str, list[str]],
    scores: dict[str, list[dict[str, float | None]]],
    flags: dict[str, list[list[str]]],
    spans: dict[str, list[dict[str, list[dict[str, object]]]]] | None = None,
) -> list[SegmentRow]:
    """One row per scoring unit, every system's hypothesis, scores, flags and error spans."""
    spans = spans or {}
    return [
        SegmentRow(
            doc_id=u.doc_id,
            src_ids=list(u.src_ids),
            ref_ids=list(u.ref_ids),
            src=u.src,
            ref=u.ref,
            more_refs=list(u.more_refs),
            hyp={label: hypotheses[label][i] for label in hypotheses},
            scores={label: scores[label][i] for label in scores},
            confidence=u.confidence,
            flags=list(u.flags),
            hyp_flags={label: marks[i] for label, marks in flags.items() if marks[i]},
            spans={label: found[i] for label, found in spans.items() if found[i]},
        )
        for i, u in enumerate(units)
    ]


def metric_info(metric: Metric) -> MetricInfo:
    return MetricInfo(
        name=metric.name,
        signature=metric.signature(),
        higher_is_better=metric.higher_is_better,
        needs_reference=metric.needs_reference,
    )


def truncation_flags(unit: ScoringUnit, truncated: dict[str, set[int]]) -> list[str]:
    """["truncated"] when a source line of the unit had a translation cut off."""
    lines = truncated.get(unit.doc_id)
    if not lines:
        return []
    if unit.sentence_positions:
        touched = {line for line, _ in unit.sentence_positions}
    else:
        touched = {i - 1 for i in unit.src_ids}
    return ["truncated"] if touched & lines else []


#: the flag on a hypothesis that a metric applying to it gave no score: `unscored:METRIC`
UNSCORED_FLAG = "unscored:"


def unscored_flags(
    units: Sequence[ScoringUnit],
    metrics: Sequence[Metric],
    segments: Sequence[dict[str, float | None]],
) -> list[list[str]]:
    """Per unit, `unscored:METRIC` for each metric that applies to the unit but gave no
    score (an LLM judge whose reply could not be parsed): such a row must not pass for a
    scored one, nor be averaged as if it were."""
    return [
        [
            f"{UNSCORED_FLAG}{m.name}"
            for m in metrics
            if unit.scorable_by(m.needs_reference) and scores.get(m.name) is None
        ]
        for unit, scores in zip(units, segments, strict=True)
    ]


def unscored_notes(
    units: Sequence[ScoringUnit], metrics: Sequence[Metric], flags: dict[str, list[list[str]]]
) -> list[str]:
    """One note per metric that left rows unscored: how many, for which systems, why."""
    notes = []
    for metric in metrics:
        flag = f"{UNSCORED_FLAG}{metric.name}"
        applies = sum(unit.scorable_by(metric.needs_reference) for unit in units)
        counts = {
            label: sum(flag in row for row in rows)
            for label, rows in flags.items()
            if any(flag in row for row in rows)
        }
        if not counts:
            continue
        why = getattr(metric, "unscored_reason", "") or "the metric gave none"
        each = ", ".join(f"{n} of {applies} for {label}" for label, n in counts.items())
        notes.append(
            f"{metric.name}: no score on {each} ({why}; flagged {flag} on their rows, "
            "left out of its averages)"
        )
    return notes


def request_fields(stats: RequestStats | None) -> dict[str, int]:
    return vars(stats).copy() if stats is not None else {}


def test_set_info(test_set: TestSet, found: Units) -> TestSetInfo:
    return TestSetInfo(
        name=test_set.name,
        origin=test_set.origin,
        hash=test_set.content_hash(),
        tgt_lang=test_set.tgt_lang,
        reference_names=list(test_set.reference_names),
        documents=[
            DocumentInfo(
                id=doc.id,
                src_lang=doc.source.lang,
                source_segments=len(doc.source.segments),
                reference_segments=len(doc.reference.segments) if doc.reference else None,
                aligned=doc.aligned,
                scored_as=found.scored_as[doc.id],
                more_reference_segments=[len(r.segments) for r in doc.more_references],
                meta=dict(doc.meta),
                skipped_source_lines=_skipped(found, doc.id, 0),
                skipped_reference_lines=_skipped(found, doc.id, 1),
            )
            for doc in test_set.documents
        ],
    )


def _skipped(found: Units, doc_id: str, side: int) -> list[SkippedLineInfo]:
    """The lines the align stage set aside on one side (0 source, 1 reference)."""
    lines = found.set_aside.get(doc_id, ([], []))[side]
    return [SkippedLineInfo(line=s.index, text=s.text, reason=s.reason) for s in lines]


def alignment_info(found: Units, min_confidence: float | None = None) -> list[AlignmentInfo]:
    return [
        AlignmentInfo(
            doc_id=doc_id,
            unit=alignment.unit,
            method=alignment.method,
            signature=alignment.signature,
            mean_confidence=round(alignment.mean_confidence, 4),
            low_confidence_links=alignment.flagged,
            unreliable=alignment.unreliable,
            below_min_confidence=found.below_min_confidence.get(doc_id, 0),
            links=[
                LinkInfo(
                    src=list(link.src),
                    ref=list(link.ref),
                    cost=link.cost,
                    confidence=link.confidence,
                    low_confidence=link.low_confidence,
                )
                for link in alignment.links
            ],
        )
        for doc_id, alignment in found.alignments.items()
    ]


def run_notes(test_set: TestSet, found: Units, min_confidence: float | None = None) -> list[str]:
    """What a reader of the run must know about how each document was scored."""
    notes = []
    if min_confidence is not None:
        left = found.below_min_confidence
        total = sum(left.values())
        where = ", ".join(f"{doc_id} {n}" for doc_id, n in left.items() if n)
        notes.append(
            f"--min-confidence {min_confidence:g}: {total} aligned unit(s) below it scored "
            "without their reference (reference-free metrics only; flagged "
            f"{BELOW_MIN_CONFIDENCE_FLAG} on their rows)" + (f": {where}" if where else "")
        )
    for doc_id, alignment in found.alignments.items():
        low = alignment.flagged
        notes.append(
            f"{doc_id}: reference not aligned line by line; scored on {len(alignment.links)} "
            f"aligned unit{'' if len(alignment.links) == 1 else 's'} ({alignment.method} "
            "alignment, mean confidence "
            f"{alignment.mean_confidence:.2f}"
            + (
                f", {low} link(s) flagged low-confidence: check with `evalkit align`)"
                if low
                else ")"
            )
        )
    for doc_id, more in found.more_alignments.items():
        for number, alignment in enumerate(more, start=2):
            notes.append(
                f"{doc_id}: reference {number} aligned on its own ({len(alignment.links)} "
                f"links, mean confidence {alignment.mean_confidence:.2f}"
                + (f", {alignment.flagged} flagged low-confidence)" if alignment.flagged else ")")
            )
    whole = [doc_id for doc_id, how in found.scored_as.items() if how == SCORED_AS_DOCUMENT]
    if whole:
        notes.append(
            "reference not aligned to the source line by line; scored on the whole "
            f"document (paragraphs joined), no segment-level scores: {', '.join(whole)}"
        )
    set_aside = [
        f"{doc_id} line {line.index} ({line.reason})"
        for doc_id, (source_lines, _) in found.set_aside.items()
        for line in source_lines
    ]
    if set_aside:
        notes.append("source lines with nothing to translate, not scored: " + ", ".join(set_aside))
    without = [doc.id for doc in test_set.documents if doc.reference is None]
    if without:
        notes.append(f"no reference, not in reference-based scores: {', '.join(without)}")
    return notes
