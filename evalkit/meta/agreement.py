"""How well each metric stored in a run agrees with the human scores of its translations.

`evalkit meta` reads a stored run and the human judgments of it, joins them (each metric's
segment scores as a (system, item) matrix over the items and systems humans judged, see
`human.py` for the human side), and has every metric's agreement computed on the same
bootstrap draws (`agreement_stats.py`: which statistics, their intervals, the ranking).
What comes back adds notes where the judgments are too few to say much.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evalkit.meta import stats
from evalkit.meta.agreement_stats import (
    AnnotatorAgreement,
    MetricAgreement,
    SystemLevel,
    annotator_agreement,
    metric_agreement,
    rank_metrics,
)
from evalkit.meta.human import (
    HumanScores,
    Scale,
    human_scores,
    read_judgments,
    run_lineage,
)
from evalkit.record import MetricInfo, RunRecord, SegmentRow, read_record, read_segments

#: below this many judged items the bootstrap intervals say little (a note says so)
FEW_ITEMS = 20


@dataclass
class MetaEvaluation:
    run_id: str
    test_set: str
    human: HumanScores
    metrics: list[MetricAgreement]
    annotators: list[AnnotatorAgreement]
    resamples: int
    permutations: int
    seed: int
    notes: list[str] = field(default_factory=list)


def metric_matrix(
    rows: Sequence[SegmentRow], metric: MetricInfo, systems: Sequence[str], items: Sequence[str]
) -> np.ndarray:
    """(systems, items) segment scores of one metric, negated when lower is better, NaN
    where missing."""
    by_id = {row.id: row for row in rows}
    sign = 1.0 if metric.higher_is_better else -1.0
    matrix = np.full((len(systems), len(items)), np.nan)
    for i, item in enumerate(items):
        row = by_id[item]
        for s, system in enumerate(systems):
            value = row.scores.get(system, {}).get(metric.name)
            if value is not None:
                matrix[s, i] = sign * value
    return matrix


def evaluate(
    record: RunRecord,
    rows: Sequence[SegmentRow],
    human: HumanScores,
    resamples: int = stats.DEFAULT_RESAMPLES,
    permutations: int = stats.DEFAULT_PERMUTATIONS,
    seed: int = stats.DEFAULT_SEED,
) -> MetaEvaluation:
    """The agreement of every metric of the run with the human scores, ranked."""
    n_items = len(human.items)
    item_draws = (
        stats.bootstrap_indices(n_items, resamples, seed)
        if resamples and n_items
        else np.empty((0, n_items), dtype=int)
    )
    system_level = SystemLevel(resamples, permutations, seed)
    metrics = [
        metric_agreement(
            metric,
            human,
            metric_matrix(rows, metric, human.systems, human.items),
            item_draws,
            system_level,
        )
        for metric in record.metrics
    ]
    rank_metrics(metrics)
    notes = []
    if human.judgments == 0:
        notes.append("no usable human judgment of this run: nothing to compare the metrics with")
    elif len(human.systems) < 2:
        notes.append("humans judged one system only: system-level and pairwise statistics need 2")
    if 0 < len(human.items) < FEW_ITEMS:
        # a bootstrap over a handful of items mostly redraws the same few: its intervals look
        # tight (often [1.000, 1.000]) without meaning it
        notes.append(
            f"only {len(human.items)} items judged: intervals from fewer than {FEW_ITEMS} items "
            "are rough and rankings within them unreliable; judge more items"
        )
    return MetaEvaluation(
        run_id=record.run_id,
        test_set=record.test_set.name,
        human=human,
        metrics=metrics,
        annotators=annotator_agreement(human, item_draws),
        resamples=resamples,
        permutations=permutations,
        seed=seed,
        notes=notes,
    )


def evaluate_run(
    folder: Path,
    results_dir: Path,
    source: Path | None = None,
    protocol: str | None = None,
    resamples: int = stats.DEFAULT_RESAMPLES,
    permutations: int = stats.DEFAULT_PERMUTATIONS,
    seed: int = stats.DEFAULT_SEED,
    scale: Scale = "raw",
) -> MetaEvaluation:
    """`evalkit meta`: a stored run against the judgments of a source (None: the store of
    `results_dir`, the folder the run lives in by default)."""
    record = read_record(folder)
    rows = list(read_segments(folder))
    judgments, where = read_judgments(source, results_dir)
    human = human_scores(
        judgments,
        run_lineage(record, results_dir),
        rows,
        [system.label for system in record.systems],
        where,
        protocol,
        scale,
    )
    return evaluate(record, rows, human, resamples, permutations, seed)
