"""One evaluation run: every system over the test set, every metric over every system.

Plain data in, plain data out: the caller decides where the record goes and how
progress is shown.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

from evalkit import __version__
from evalkit.align import Aligner
from evalkit.align.document import AlignUnit
from evalkit.align.lines import split_translatable
from evalkit.cache import TranslationCache
from evalkit.corpus.model import TestSet
from evalkit.embeddings import EncoderUser, StoredEncoder, VectorStore
from evalkit.engines import one_time
from evalkit.engines.base import PrecomputedSystem, RequestStats, fingerprint_digest
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError
from evalkit.metrics import available_metrics
from evalkit.metrics.base import Metric, MetricUnavailable
from evalkit.results import (
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
    new_run_id,
    utc_now,
)
from evalkit.scoring import (
    SCORED_AS_DOCUMENT,
    ScoringUnit,
    StatisticsStore,
    SystemScores,
    Units,
    score_system,
    scored_as,
    scoring_units,
    unit_hypotheses,
)
from evalkit.translate import Progress, Unit, system_hypotheses

#: called as (system label, progress of that system)
RunProgress = Callable[[str, Progress], None]

_TRACKED_PACKAGES = ("sacrebleu", "pysbd", "typer", "pydantic", "transformers", "torch")


@dataclass
class Evaluation:
    record: RunRecord
    rows: list[SegmentRow]


def evaluate(
    test_set: TestSet,
    systems: Sequence[NamedSystem],
    metrics: Sequence[Metric],
    unit: Unit = "sentence",
    name: str | None = None,
    command: Sequence[str] = (),
    cache: TranslationCache | None = None,
    on_progress: RunProgress | None = None,
    aligner: Aligner | None = None,
    align_unit: AlignUnit = "paragraph",
) -> Evaluation:
    """Translate with every system and score; `aligner` pairs the paragraphs of documents
    whose reference does not follow the source line by line (None: score them whole)."""
    started = utc_now()
    clock = time.perf_counter()
    if align_unit == "sentence":
        _check_sentence_units(systems, unit)
    stats_store = cache.statistics if cache is not None else None
    if cache is not None:
        _embed_through(cache.embeddings, aligner, metrics)
    timings = {"align": 0.0, **dict.fromkeys(one_time.PHASES, 0.0), "translate": 0.0, "score": 0.0}
    one_time.take()  # only this run's one-time work counts
    stage = time.perf_counter()
    found = scoring_units(test_set, aligner, align_unit)
    timings["align"] = time.perf_counter() - stage
    units = found.units
    has_source = any(seg.strip() for doc in test_set.documents for seg in doc.source.segments)
    metrics, skipped = available_metrics(metrics, has_source)
    system_infos: list[SystemInfo] = []
    scores: dict[str, SystemResult] = {}
    unit_hyps: dict[str, list[str]] = {}
    unit_flags: dict[str, list[list[str]]] = {}
    segment_scores = {}
    for named in systems:
        progress = (
            (lambda state, label=named.label: on_progress(label, state)) if on_progress else None
        )
        stage = time.perf_counter()
        output = system_hypotheses(
            named.system, test_set, unit=unit, cache=cache, on_progress=progress
        )
        translate_s = time.perf_counter() - stage
        for phase, seconds in one_time.take().items():  # model files made on first use
            timings[phase] += seconds
            translate_s -= seconds
        timings["translate"] += translate_s
        stage = time.perf_counter()
        unit_hyps[named.label] = unit_hypotheses(units, output.hypotheses, output.pieces)
        unit_flags[named.label] = [_truncation_flags(u, output.truncated) for u in units]
        result = _score_available(units, unit_hyps[named.label], metrics, skipped, stats_store)
        scores[named.label] = SystemResult(corpus=result.corpus, documents=result.documents)
        segment_scores[named.label] = result.segments
        timings["score"] += time.perf_counter() - stage
        fingerprint = named.system.fingerprint()
        system_infos.append(
            SystemInfo(
                label=named.label,
                spec=named.spec,
                kind=named.system.kind,
                fingerprint=fingerprint,
                fingerprint_hash=fingerprint_digest(fingerprint),
                seconds=round(output.seconds, 3),
                units=output.units,
                cache_hits=output.cache_hits,
                translated=output.translated,
                generated_tokens=output.generated_tokens,
                truncated=output.truncated_units,
                **_request_fields(output.requests),
            )
        )
    rows = [
        SegmentRow(
            doc_id=u.doc_id,
            src_ids=list(u.src_ids),
            ref_ids=list(u.ref_ids),
            src=u.src,
            ref=u.ref,
            hyp={label: unit_hyps[label][i] for label in unit_hyps},
            scores={label: segment_scores[label][i] for label in segment_scores},
            confidence=u.confidence,
            flags=list(u.flags),
            hyp_flags={label: flags[i] for label, flags in unit_flags.items() if flags[i]},
        )
        for i, u in enumerate(units)
    ]
    test_set_info = _test_set_info(test_set, aligner)
    record = RunRecord(
        run_id=new_run_id(name),
        name=name,
        command=list(command),
        unit=unit,
        started=started,
        finished=utc_now(),
        duration_s=round(time.perf_counter() - clock, 3),
        test_set=test_set_info,
        systems=system_infos,
        metrics=[
            MetricInfo(
                name=m.name,
                signature=m.signature(),
                higher_is_better=m.higher_is_better,
                needs_reference=m.needs_reference,
            )
            for m in metrics
        ],
        scores=scores,
        notes=_notes(test_set, test_set_info, found) + [str(reason) for reason in skipped],
        environment=environment(),
        alignment=_alignment_info(found),
        timings={stage: round(seconds, 3) for stage, seconds in timings.items()},
    )
    return Evaluation(record=record, rows=rows)


def _truncation_flags(unit: ScoringUnit, truncated: dict[str, set[int]]) -> list[str]:
    """["truncated"] when a source line of the unit had a translation cut off."""
    lines = truncated.get(unit.doc_id)
    if not lines:
        return []
    if unit.sentence_positions:
        touched = {line for line, _ in unit.sentence_positions}
    else:
        touched = {i - 1 for i in unit.src_ids}
    return ["truncated"] if touched & lines else []


def _request_fields(stats: RequestStats | None) -> dict[str, int]:
    return vars(stats).copy() if stats is not None else {}


def _check_sentence_units(systems: Sequence[NamedSystem], unit: Unit) -> None:
    """Sentence links as scoring units need every system's output sentence by sentence."""
    if unit != "sentence":
        raise UserInputError("--align-unit sentence needs --unit sentence")
    whole = [n.label for n in systems if isinstance(n.system, PrecomputedSystem)]
    if whole:
        raise UserInputError(
            f"--align-unit sentence needs systems that translate sentence by sentence; "
            f"{', '.join(whole)} give whole lines (use --align-unit paragraph)"
        )


def _embed_through(store: VectorStore, aligner: Aligner | None, metrics: Sequence[Metric]) -> None:
    """Sentence embeddings of the aligner and of embedding metrics go through the cache
    file: a rerun reads them instead of loading the encoder."""
    for user in (aligner, *metrics):
        if isinstance(user, EncoderUser):
            user.use_encoder(StoredEncoder(user.encoder_spec, store))


def _score_available(
    units: Sequence[ScoringUnit],
    hypotheses: Sequence[str],
    metrics: list[Metric],
    skipped: list[MetricUnavailable],
    store: StatisticsStore | None = None,
) -> SystemScores:
    """Scores metric by metric; a metric that turns out unable to load is dropped and noted."""
    total = SystemScores(documents={u.doc_id: {} for u in units}, segments=[{} for _ in units])
    for metric in list(metrics):
        try:
            part = score_system(units, hypotheses, [metric], store)
        except MetricUnavailable as reason:
            metrics.remove(metric)
            skipped.append(reason)
            continue
        total.corpus.update(part.corpus)
        for doc_id, doc_scores in part.documents.items():
            total.documents[doc_id].update(doc_scores)
        for row, row_scores in zip(total.segments, part.segments, strict=True):
            row.update(row_scores)
    return total


def _skipped(segments: tuple[str, ...] | None, line_by_line: bool) -> list[SkippedLineInfo]:
    if segments is None or line_by_line:
        return []
    _, skipped = split_translatable(segments)
    return [SkippedLineInfo(line=s.index, text=s.text, reason=s.reason) for s in skipped]


def _test_set_info(test_set: TestSet, aligner: Aligner | None) -> TestSetInfo:
    return TestSetInfo(
        name=test_set.name,
        origin=test_set.origin,
        hash=test_set.content_hash(),
        tgt_lang=test_set.tgt_lang,
        documents=[
            DocumentInfo(
                id=doc.id,
                src_lang=doc.source.lang,
                source_segments=len(doc.source.segments),
                reference_segments=len(doc.reference.segments) if doc.reference else None,
                aligned=doc.aligned,
                scored_as=scored_as(doc, aligner),
                skipped_source_lines=_skipped(doc.source.segments, doc.aligned),
                skipped_reference_lines=_skipped(
                    doc.reference.segments if doc.reference else None, doc.aligned
                ),
            )
            for doc in test_set.documents
        ],
    )


def _alignment_info(found: Units) -> list[AlignmentInfo]:
    return [
        AlignmentInfo(
            doc_id=doc_id,
            unit=alignment.unit,
            method=alignment.method,
            signature=alignment.signature,
            mean_confidence=round(alignment.mean_confidence, 4),
            low_confidence_links=sum(link.low_confidence for link in alignment.links),
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


def _notes(test_set: TestSet, info: TestSetInfo, found: Units) -> list[str]:
    notes = []
    for doc_id, alignment in found.alignments.items():
        low = sum(link.low_confidence for link in alignment.links)
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
    }
    for package in _TRACKED_PACKAGES:
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return env
