"""Score a stored run again with more metrics, without translating again.

A run keeps every system's hypothesis on every row, with the row's source, reference,
document and line ids: the scoring units themselves. `rescore` rebuilds the units from
those rows and runs the scoring stage a normal run runs (`score.metrics_run.score_available`, the
same statistics store and caches), so a metric added this way gives the numbers a fresh
run with that metric gives. The result is a new run (new id, written atomically by the
caller) that points at the old one (`rescored_from`); the old run is never touched.

Metrics already in the run with the same signature are kept as they are, not computed
again; one whose signature differs (another checkpoint, another judge model) is computed
and replaces the old numbers, and the notes say so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.align.units import ScoringUnit
from evalkit.cache import TranslationCache
from evalkit.errors import UserInputError
from evalkit.metrics import MetricContext, available_metrics, create_metrics
from evalkit.metrics.base import Metric
from evalkit.record import (
    ErrorSpanInfo,
    MetricInfo,
    RunRecord,
    SegmentRow,
    SystemResult,
    new_run_id,
    read_record,
    read_segments,
    utc_now,
)
from evalkit.record.build import UNSCORED_FLAG, metric_info, unscored_flags, unscored_notes
from evalkit.scoring.metrics_run import attach_cache, score_available
from evalkit.scoring.system import SystemScores, count_references


@dataclass
class Rescored:
    """The new run (None when every metric asked for is already there, unchanged), and
    what happened to each metric asked for."""

    record: RunRecord | None
    rows: list[SegmentRow]
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def units_of(rows: Sequence[SegmentRow]) -> list[ScoringUnit]:
    """The scoring units a run was scored on, from its rows (hypotheses live on the rows,
    so the sentence positions that found them are not needed)."""
    return [
        ScoringUnit(
            row.doc_id,
            tuple(row.src_ids),
            tuple(row.ref_ids),
            row.src,
            row.ref,
            row.confidence,
            tuple(row.flags),
            more_refs=tuple(row.more_refs),
        )
        for row in rows
    ]


def metric_context_of(record: RunRecord) -> MetricContext:
    """The languages the run's metrics were built with."""
    sources = tuple(dict.fromkeys(doc.src_lang for doc in record.test_set.documents))
    return MetricContext(tgt_lang=record.test_set.tgt_lang, src_langs=sources)


def build_metrics(folder: Path, specs: Sequence[str]) -> list[Metric]:
    """The metrics the specs name, built for the stored run's languages; a bad spec fails
    here, before anything is computed."""
    if not specs:
        raise UserInputError("name at least one metric to add: --metric NAME")
    return create_metrics(list(specs), metric_context_of(read_record(folder)))


def rescore(
    folder: Path,
    metrics: Sequence[Metric],
    name: str | None = None,
    command: Sequence[str] = (),
    cache: TranslationCache | None = None,
) -> Rescored:
    """Score the run in `folder` with `metrics`, keeping what it has; nothing is written."""
    clock = time.perf_counter()
    started = utc_now()
    old = read_record(folder)
    rows = list(read_segments(folder))
    has_source = any(row.src.strip() for row in rows)
    ready, unavailable = available_metrics(metrics, has_source)
    stored = {m.name: m for m in old.metrics}
    result = Rescored(record=None, rows=rows, skipped=[str(reason) for reason in unavailable])
    units = units_of(rows)
    count_references(ready, [u.references for u in units])
    todo: list[Metric] = []
    for metric in ready:
        before = stored.get(metric.name)
        if before is not None and before.signature == metric.signature():
            result.kept.append(metric.name)
        else:
            todo.append(metric)
    if not todo:
        return result
    if cache is not None:
        attach_cache(cache, None, todo)
    store = cache.statistics if cache is not None else None
    scores = {label: system.model_copy(deep=True) for label, system in old.scores.items()}
    new_rows = [row.model_copy(deep=True) for row in rows]
    flags: dict[str, list[list[str]]] = {}
    reasons = list(unavailable)
    labels = [system.label for system in old.systems]
    parts = score_available(
        units, [[row.hyp[label] for row in rows] for label in labels], todo, reasons, store
    )
    for label, part in zip(labels, parts, strict=True):
        flags[label] = unscored_flags(units, todo, part.segments)
        _merge_system(scores.setdefault(label, SystemResult(corpus={}, documents={})), part)
        for row, segment, spans, marks in zip(
            new_rows, part.segments, part.spans, flags[label], strict=True
        ):
            _merge_row(row, label, [m.name for m in todo], segment, spans, marks)
    result.skipped = [str(reason) for reason in reasons]
    for metric in todo:
        (result.replaced if metric.name in stored else result.added).append(metric.name)
    result.rows = new_rows
    result.record = RunRecord(
        run_id=new_run_id(name if name is not None else old.name),
        name=name if name is not None else old.name,
        command=list(command),
        unit=old.unit,
        started=started,
        finished=utc_now(),
        duration_s=round(time.perf_counter() - clock, 3),
        test_set=old.test_set,
        systems=old.systems,
        metrics=_metric_list(old.metrics, todo),
        scores=scores,
        notes=_notes(old, todo, result) + unscored_notes(units, todo, flags),
        environment=old.environment,
        alignment=old.alignment,
        # the stored rows below it have no reference: the record must still say why
        min_confidence=old.min_confidence,
        rescored_from=old.run_id,
        timings={"score": round(time.perf_counter() - clock, 3)},
    )
    return result


def _merge_system(target: SystemResult, part: SystemScores) -> None:
    target.corpus.update(part.corpus)
    for doc_id, doc_scores in part.documents.items():
        target.documents.setdefault(doc_id, {}).update(doc_scores)


def _merge_row(
    row: SegmentRow,
    label: str,
    names: list[str],
    segment: dict[str, float | None],
    spans: dict[str, list[dict[str, object]]],
    marks: list[str],
) -> None:
    """The new metrics' scores, spans and unscored flags on one row of one system; what a
    replaced metric left there before is removed first."""
    row.scores.setdefault(label, {}).update(segment)
    old_spans = {k: v for k, v in row.spans.get(label, {}).items() if k not in names}
    old_spans.update(
        {k: [ErrorSpanInfo.model_validate(s) for s in v] for k, v in spans.items() if v}
    )
    if old_spans:
        row.spans[label] = old_spans
    else:
        row.spans.pop(label, None)
    gone = {f"{UNSCORED_FLAG}{n}" for n in names}
    kept = [flag for flag in row.hyp_flags.get(label, []) if flag not in gone] + marks
    if kept:
        row.hyp_flags[label] = kept
    else:
        row.hyp_flags.pop(label, None)


def _metric_list(old: list[MetricInfo], computed: Sequence[Metric]) -> list[MetricInfo]:
    """The old metrics in their order, replaced ones in place, new ones at the end."""
    fresh = {m.name: metric_info(m) for m in computed}
    merged = [fresh.pop(m.name, m) for m in old]
    return merged + list(fresh.values())


def _notes(old: RunRecord, computed: Sequence[Metric], result: Rescored) -> list[str]:
    """The old notes, less those about metrics computed again, and what this rescoring did."""
    names = {m.name for m in computed}
    kept = [
        note
        for note in old.notes
        if not any(
            note.startswith(f"{n}: no score") or note.startswith(f"metric {n!r} skipped")
            for n in names
        )
    ]
    said = [f"rescored from run {old.run_id} (no translation): "]
    parts = []
    if result.added:
        parts.append(f"added {', '.join(result.added)}")
    if result.replaced:
        before = {m.name: m.signature for m in old.metrics}
        after = {m.name: m.signature() for m in computed}
        parts.append(
            "replaced (signature changed) "
            + "; ".join(f"{n}: {before[n]!r} -> {after[n]!r}" for n in result.replaced)
        )
    if result.kept:
        parts.append(f"kept (same signature, not recomputed) {', '.join(result.kept)}")
    said[0] += "; ".join(parts)
    return kept + said + result.skipped
