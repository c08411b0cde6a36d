"""One evaluation run: the stages in order, each a function of the previous one's data.

    load, segment   a TestSet (evalkit/corpus: test sets, formats, sentence splitting)
    translate       every system's hypotheses, through the cache   (evalkit/translate)
    align           the units scored: line pairs, alignment links or whole documents
                    (evalkit/align); after translation, since an aligner may align a
                    system's translation (a pivot) with the reference
    score           every metric over every system's units       (evalkit/score)
    record          the RunRecord and its rows                      (evalkit/record)
    report          the terminal tables and the HTML page, from the record (evalkit/report)

`evaluate` below calls translate, align, score and record once each, in that order. The
caller decides where the record goes and how progress is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evalkit.align.document import AlignUnit
from evalkit.align.methods import PivotAligner
from evalkit.align.units import DocumentAligner, Units, scoring_units
from evalkit.cache import TranslationCache
from evalkit.corpus.model import TestSet
from evalkit.engines import one_time
from evalkit.engines.base import PrecomputedSystem
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError
from evalkit.metrics import available_metrics
from evalkit.metrics.base import Metric
from evalkit.record import RunRecord, SegmentRow, utc_now
from evalkit.record.build import RunFacts, SystemRun, record_run
from evalkit.scoring.metrics_run import MetricEvent, attach_cache, score_available
from evalkit.scoring.system import count_references, unit_hypotheses
from evalkit.translate import Progress, SystemOutput, Unit, system_hypotheses

#: called as (system label, progress of that system)
RunProgress = Callable[[str, Progress], None]


@dataclass(frozen=True)
class StageEvent:
    """A stage of the run starting or ending, for progress shown in a terminal or a log:
    `stage` is "align", "translate" or "score"; `label` the system (empty for align);
    `metric` the metric being computed (score only); `done`/`total` count metrics for
    score, documents for align; `seconds` and `segments` are set when a step ends. While
    a metric runs: `segments` done of `segments_total`, `elapsed` seconds so far."""

    stage: str
    label: str = ""
    metric: str = ""
    done: int = 0
    total: int = 0
    seconds: float | None = None
    segments: int = 0
    segments_total: int = 0
    elapsed: float = 0.0


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
    aligner: DocumentAligner | None = None,
    align_unit: AlignUnit = "paragraph",
    min_confidence: float | None = None,
    on_stage: StageCallback | None = None,
) -> Evaluation:
    """Translate with every system, align, score and record; `aligner` pairs the
    paragraphs of documents whose reference does not follow the source line by line (None:
    score them whole). Aligned links below `min_confidence` are scored without their
    reference. `on_stage` hears each stage start and end (see `StageEvent`)."""
    clock = _StageClock(on_stage)
    started = utc_now()
    if align_unit == "sentence":
        _check_sentence_units(systems, unit)
    if cache is not None:
        attach_cache(cache, aligner, metrics)
    outputs = translate_stage(test_set, systems, unit, cache, on_progress, clock)
    found = align_stage(test_set, aligner, align_unit, min_confidence, outputs, clock)
    scored = score_stage(test_set, systems, metrics, found, outputs, cache, clock)
    facts = RunFacts(
        name=name,
        command=list(command),
        unit=unit,
        started=started,
        seconds=clock.elapsed(),
        timings=clock.timings,
        min_confidence=min_confidence,
        skipped=scored.skipped,
    )
    record, rows = record_run(test_set, found, scored.metrics, scored.systems, facts)
    return Evaluation(record=record, rows=rows)


class _StageClock:
    """Where the run's time goes, stage by stage, told to the caller as it goes."""

    def __init__(self, on_stage: StageCallback | None) -> None:
        self.tell: StageCallback = on_stage or (lambda event: None)
        self.timings = {
            "align": 0.0,
            **dict.fromkeys(one_time.PHASES, 0.0),
            "translate": 0.0,
            "score": 0.0,
        }
        self._start = time.perf_counter()
        one_time.take()  # only this run's one-time work counts

    def elapsed(self) -> float:
        return time.perf_counter() - self._start


def translate_stage(
    test_set: TestSet,
    systems: Sequence[NamedSystem],
    unit: Unit,
    cache: TranslationCache | None,
    on_progress: RunProgress | None,
    clock: _StageClock,
) -> dict[str, SystemOutput]:
    """Every system's hypotheses, by label. Model files a system makes on first use are
    timed as their own phases, not as translation."""
    outputs: dict[str, SystemOutput] = {}
    for named in systems:
        progress = (
            (lambda state, label=named.label: on_progress(label, state)) if on_progress else None
        )
        started = time.perf_counter()
        clock.tell(StageEvent("translate", named.label))
        outputs[named.label] = system_hypotheses(
            named.system, test_set, unit=unit, cache=cache, on_progress=progress
        )
        seconds = time.perf_counter() - started
        for phase, phase_s in one_time.take().items():
            clock.timings[phase] += phase_s
            seconds -= phase_s
        clock.timings["translate"] += seconds
    return outputs


def align_stage(
    test_set: TestSet,
    aligner: DocumentAligner | None,
    align_unit: AlignUnit,
    min_confidence: float | None,
    outputs: dict[str, SystemOutput],
    clock: _StageClock,
) -> Units:
    """The units every system is scored on: one set for all systems. An aligner that
    aligns through a pivot translation is handed the pivot system's hypotheses first."""
    documents = len(test_set.documents)
    started = time.perf_counter()
    clock.tell(StageEvent("align", total=documents))
    if isinstance(aligner, PivotAligner):
        if aligner.pivot_label not in outputs:
            raise UserInputError(
                f"alignment through {aligner.pivot_label}'s translation, but no system is "
                f"labelled {aligner.pivot_label} (systems: {', '.join(outputs)})"
            )
        aligner.use_pivot(
            outputs[aligner.pivot_label].hypotheses,
            {doc.id: doc.source.segments for doc in test_set.documents},
        )
    found = scoring_units(test_set, aligner, align_unit, min_confidence)
    clock.timings["align"] = time.perf_counter() - started
    clock.tell(StageEvent("align", done=documents, total=documents, seconds=clock.timings["align"]))
    return found


@dataclass
class Scored:
    """The score stage's result: each system's scores and the metrics that gave them
    (a metric that could not load is dropped, its reason in `skipped`)."""

    metrics: list[Metric]
    systems: list[SystemRun]
    skipped: list[str]


def score_stage(
    test_set: TestSet,
    systems: Sequence[NamedSystem],
    metrics: Sequence[Metric],
    found: Units,
    outputs: dict[str, SystemOutput],
    cache: TranslationCache | None,
    clock: _StageClock,
) -> Scored:
    """Every metric over every system's units; statistics computed before by any run are
    read from the cache's statistics store."""
    units = found.units
    count_references(metrics, [u.references for u in units])
    has_source = any(seg.strip() for doc in test_set.documents for seg in doc.source.segments)
    usable, skipped = available_metrics(metrics, has_source)
    store = cache.statistics if cache is not None else None
    started = time.perf_counter()
    hypotheses = [
        unit_hypotheses(units, outputs[n.label].hypotheses, outputs[n.label].unit_translations)
        for n in systems
    ]
    # one system is named in the progress lines; several are scored together, each metric
    # over all of them (references and sources embedded once)
    label = systems[0].label if len(systems) == 1 else f"{len(systems)} systems"

    def heard(event: MetricEvent) -> None:
        clock.tell(
            StageEvent(
                "score",
                label,
                event.metric,
                event.done,
                event.total,
                event.seconds,
                event.segments,
                event.segments_total,
                event.elapsed,
            )
        )

    scores = score_available(units, hypotheses, usable, skipped, store, on_metric=heard)
    runs = [
        SystemRun(named, outputs[named.label], system_hypotheses, system_scores)
        for named, system_hypotheses, system_scores in zip(systems, hypotheses, scores, strict=True)
    ]
    clock.timings["score"] += time.perf_counter() - started
    return Scored(usable, runs, [str(reason) for reason in skipped])


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
