"""One evaluation run: every system over the test set, every metric over every system.

The stages, each a module taking the previous one's plain data:

    load (corpus.resolve)  ->  align (scoring.scoring_units: which source and reference
    lines are scored together)  ->  translate (translate.system_hypotheses, per system,
    through the cache)  ->  score (scoring.score_system)  ->  record (record.py)

Sentences are split once (corpus.segment.sentences) and shared by alignment,
translation and scoring. The caller decides where the record goes and how progress is
shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from evalkit.align import Aligner
from evalkit.align.document import AlignUnit
from evalkit.cache import TranslationCache
from evalkit.corpus.model import TestSet
from evalkit.embeddings import EncoderUser, StoredEncoder, VectorStore
from evalkit.engines import one_time
from evalkit.engines.base import PrecomputedSystem, fingerprint_digest
from evalkit.engines.chat_completion import ChatCacheUser
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError
from evalkit.metrics import available_metrics
from evalkit.metrics.base import Metric, MetricUnavailable
from evalkit.record import (
    alignment_info,
    environment,
    metric_info,
    request_fields,
    run_notes,
    segment_rows,
    test_set_info,
    truncation_flags,
    unscored_flags,
    unscored_notes,
)
from evalkit.results import (
    RunRecord,
    SegmentRow,
    SystemInfo,
    SystemResult,
    new_run_id,
    utc_now,
)
from evalkit.scoring import (
    ScoringUnit,
    StatisticsStore,
    SystemScores,
    count_references,
    score_system,
    scoring_units,
    unit_hypotheses,
)
from evalkit.translate import Progress, Unit, system_hypotheses

#: called as (system label, progress of that system)
RunProgress = Callable[[str, Progress], None]


@dataclass(frozen=True)
class StageEvent:
    """A stage of the run starting or ending, for progress shown in a terminal or a log:
    `stage` is "align", "translate" or "score"; `label` the system (empty for align);
    `metric` the metric being computed (score only); `done`/`total` count metrics for
    score, documents for align; `seconds` and `segments` are set when a step ends."""

    stage: str
    label: str = ""
    metric: str = ""
    done: int = 0
    total: int = 0
    seconds: float | None = None
    segments: int = 0


StageCallback = Callable[[StageEvent], None]


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
    min_confidence: float | None = None,
    on_stage: StageCallback | None = None,
) -> Evaluation:
    """Translate with every system and score; `aligner` pairs the paragraphs of documents
    whose reference does not follow the source line by line (None: score them whole).
    Aligned links below `min_confidence` are scored without their reference.
    `on_stage` hears each stage start and end (see `StageEvent`)."""
    tell = on_stage or (lambda event: None)
    started = utc_now()
    clock = time.perf_counter()
    if align_unit == "sentence":
        _check_sentence_units(systems, unit)
    stats_store = cache.statistics if cache is not None else None
    if cache is not None:
        attach_cache(cache, aligner, metrics)
    timings = {"align": 0.0, **dict.fromkeys(one_time.PHASES, 0.0), "translate": 0.0, "score": 0.0}
    one_time.take()  # only this run's one-time work counts
    stage = time.perf_counter()
    documents = len(test_set.documents)
    tell(StageEvent("align", total=documents))
    found = scoring_units(test_set, aligner, align_unit, min_confidence)
    timings["align"] = time.perf_counter() - stage
    tell(StageEvent("align", done=documents, total=documents, seconds=timings["align"]))
    units = found.units
    count_references(metrics, [u.references for u in units])
    has_source = any(seg.strip() for doc in test_set.documents for seg in doc.source.segments)
    metrics, skipped = available_metrics(metrics, has_source)
    system_infos: list[SystemInfo] = []
    scores: dict[str, SystemResult] = {}
    unit_hyps: dict[str, list[str]] = {}
    unit_flags: dict[str, list[list[str]]] = {}
    segment_scores = {}
    segment_spans = {}
    for named in systems:
        progress = (
            (lambda state, label=named.label: on_progress(label, state)) if on_progress else None
        )
        stage = time.perf_counter()
        tell(StageEvent("translate", named.label))
        output = system_hypotheses(
            named.system, test_set, unit=unit, cache=cache, on_progress=progress
        )
        translate_s = time.perf_counter() - stage
        for phase, seconds in one_time.take().items():  # model files made on first use
            timings[phase] += seconds
            translate_s -= seconds
        timings["translate"] += translate_s
        stage = time.perf_counter()
        unit_hyps[named.label] = unit_hypotheses(units, output.hypotheses, output.unit_translations)
        result = score_available(
            units,
            unit_hyps[named.label],
            metrics,
            skipped,
            stats_store,
            on_metric=lambda event, label=named.label: tell(replace(event, label=label)),
        )
        unscored = unscored_flags(units, metrics, result.segments)
        unit_flags[named.label] = [
            truncation_flags(u, output.truncated) + marks
            for u, marks in zip(units, unscored, strict=True)
        ]
        scores[named.label] = SystemResult(corpus=result.corpus, documents=result.documents)
        segment_scores[named.label] = result.segments
        segment_spans[named.label] = result.spans
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
                **request_fields(output.requests),
            )
        )
    rows = segment_rows(units, unit_hyps, segment_scores, unit_flags, segment_spans)
    record = RunRecord(
        run_id=new_run_id(name),
        name=name,
        command=list(command),
        unit=unit,
        started=started,
        finished=utc_now(),
        duration_s=round(time.perf_counter() - clock, 3),
        test_set=test_set_info(test_set, aligner),
        systems=system_infos,
        metrics=[metric_info(m) for m in metrics],
        scores=scores,
        notes=run_notes(test_set, found, min_confidence)
        + [str(reason) for reason in skipped]
        + unscored_notes(units, metrics, unit_flags),
        environment=environment(),
        alignment=alignment_info(found, min_confidence),
        timings={stage: round(seconds, 3) for stage, seconds in timings.items()},
        min_confidence=min_confidence,
    )
    return Evaluation(record=record, rows=rows)


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


def attach_cache(
    cache: TranslationCache, aligner: Aligner | None, metrics: Sequence[Metric]
) -> None:
    """Sentence embeddings of the aligner and of embedding metrics, and the replies of
    chat-model judges, go through the cache file: a rerun reads them instead of loading
    the encoder or asking the model again."""
    store: VectorStore = cache.embeddings
    for user in (aligner, *metrics):
        if isinstance(user, EncoderUser):
            user.use_encoder(StoredEncoder(user.encoder_spec, store))
        if isinstance(user, ChatCacheUser):
            user.use_chat_cache(cache)


def score_available(
    units: Sequence[ScoringUnit],
    hypotheses: Sequence[str],
    metrics: list[Metric],
    skipped: list[MetricUnavailable],
    store: StatisticsStore | None = None,
    on_metric: StageCallback | None = None,
) -> SystemScores:
    """Scores metric by metric; a metric that turns out unable to load is dropped and noted.
    `on_metric` hears each metric start and end (a "score" `StageEvent` without label)."""
    total = SystemScores(
        documents={u.doc_id: {} for u in units},
        segments=[{} for _ in units],
        spans=[{} for _ in units],
    )
    tell = on_metric or (lambda event: None)
    total_metrics = len(metrics)
    for number, metric in enumerate(list(metrics), start=1):
        started = time.perf_counter()
        event = StageEvent("score", metric=metric.name, done=number - 1, total=total_metrics)
        tell(event)
        try:
            part = score_system(units, hypotheses, [metric], store)
        except MetricUnavailable as reason:
            metrics.remove(metric)
            skipped.append(reason)
            continue
        tell(
            replace(
                event,
                done=number,
                seconds=time.perf_counter() - started,
                segments=sum(row.get(metric.name) is not None for row in part.segments),
            )
        )
        total.corpus.update(part.corpus)
        for doc_id, doc_scores in part.documents.items():
            total.documents[doc_id].update(doc_scores)
        for row, row_scores in zip(total.segments, part.segments, strict=True):
            row.update(row_scores)
        for row_spans, part_spans in zip(total.spans, part.spans, strict=True):
            row_spans.update(part_spans)
    return total
