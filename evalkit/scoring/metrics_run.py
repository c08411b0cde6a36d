"""Running a run's metrics on its systems: metric by metric, all systems together, each
metric heard starting and ending, a metric that turns out unable to load dropped and noted
instead of failing the run. A normal run and `rescore` both score this way."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from evalkit.align.units import DocumentAligner, ScoringUnit
from evalkit.cache import TranslationCache
from evalkit.embeddings import EncoderUser, StoredEncoder, VectorStore
from evalkit.engines.chat_completion import ChatCacheUser
from evalkit.metrics.base import Metric, MetricUnavailable
from evalkit.scoring.system import StatisticsStore, SystemScores, empty_scores, score_systems


@dataclass(frozen=True)
class MetricEvent:
    """A metric starting (`seconds` None) or ending on the systems' units: `done`/`total`
    count metrics; `segments` is how many units it scored, all systems together. While a
    per-segment metric runs, one event per chunk: `seconds` None, `segments` done so far
    of `segments_total`, `elapsed` seconds since the metric started."""

    metric: str
    done: int
    total: int
    seconds: float | None = None
    segments: int = 0
    segments_total: int = 0
    elapsed: float = 0.0


MetricCallback = Callable[[MetricEvent], None]


def attach_cache(
    cache: TranslationCache, aligner: DocumentAligner | None, metrics: Sequence[Metric]
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
    hypotheses: Sequence[Sequence[str]],
    metrics: list[Metric],
    skipped: list[MetricUnavailable],
    store: StatisticsStore | None = None,
    on_metric: MetricCallback | None = None,
) -> list[SystemScores]:
    """Each system's scores (one list of unit hypotheses per system), metric by metric; a
    metric that turns out unable to load is removed from `metrics` and its reason added to
    `skipped`."""
    totals = [empty_scores(units) for _ in hypotheses]
    tell = on_metric or (lambda event: None)
    total_metrics = len(metrics)
    for number, metric in enumerate(list(metrics), start=1):
        started = time.perf_counter()
        event = MetricEvent(metric.name, done=number - 1, total=total_metrics)
        tell(event)

        def chunk_done(
            done: int, total: int, event: MetricEvent = event, started: float = started
        ) -> None:
            tell(
                replace(
                    event,
                    segments=done,
                    segments_total=total,
                    elapsed=time.perf_counter() - started,
                )
            )

        try:
            parts = score_systems(units, hypotheses, [metric], store, on_chunk=chunk_done)
        except MetricUnavailable as reason:
            metrics.remove(metric)
            skipped.append(reason)
            continue
        tell(
            replace(
                event,
                done=number,
                seconds=time.perf_counter() - started,
                segments=sum(
                    row.get(metric.name) is not None for part in parts for row in part.segments
                ),
            )
        )
        for total, part in zip(totals, parts, strict=True):
            _merge(total, part)
    return totals


def _merge(total: SystemScores, part: SystemScores) -> None:
    total.corpus.update(part.corpus)
    for doc_id, doc_scores in part.documents.items():
        total.documents[doc_id].update(doc_scores)
    for row, row_scores in zip(total.segments, part.segments, strict=True):
        row.update(row_scores)
    for row_spans, part_spans in zip(total.spans, part.spans, strict=True):
        row_spans.update(part_spans)
