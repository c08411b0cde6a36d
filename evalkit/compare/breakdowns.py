"""Where two systems differ: per document, per source-length bucket, segment by segment.

Document and bucket scores are computed the same way as corpus scores (sums of sufficient
statistics for lexical metrics, means of segment scores otherwise), over the rows of the
group. Win/tie/loss and the most different segments use the stored segment scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from evalkit.compare.load import Pool, Row
from evalkit.compare.significance import MetricData, metric_data
from evalkit.record import MetricInfo

#: source length in whitespace-separated words: (label, lowest, highest)
LENGTH_BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("1-10", 1, 10),
    ("11-25", 11, 25),
    ("26-50", 26, 50),
    ("51-100", 51, 100),
    (">100", 101, float("inf")),
)
TIE_TOLERANCE = 1e-9


def source_words(row: Row) -> int:
    return len(row.src.split())


def length_bucket(words: int) -> str:
    for label, low, high in LENGTH_BUCKETS:
        if low <= words <= high:
            return label
    return LENGTH_BUCKETS[0][0]


@dataclass
class GroupScores:
    """Scores of each system on groups of rows (documents or length buckets)."""

    kind: str  # "document" or "length"
    groups: list[str]
    rows: dict[str, int]  # group -> number of rows (over all metrics' rows)
    #: metric -> group -> system -> score (None where the metric has no row in the group)
    scores: dict[str, dict[str, dict[str, float | None]]]


def _group_scores(
    pool: Pool, data: dict[str, MetricData], group_of: dict[int, str], groups: list[str]
) -> dict[str, dict[str, dict[str, float | None]]]:
    keys = [s.key for s in pool.systems]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, md in data.items():
        out[name] = {}
        for group in groups:
            positions = [j for j, i in enumerate(md.rows) if group_of[i] == group]
            if not positions:
                out[name][group] = dict.fromkeys(keys)
                continue
            scores: dict[str, float | None] = {}
            for k in keys:
                sums = md.stats[k][positions].astype("float64").sum(0)
                if md.from_statistics:
                    scores[k] = float(md.score_sums(sums[None])[0])
                else:
                    scores[k] = float(sums[0] / len(positions))
            out[name][group] = scores
    return out


def _all_metric_data(pool: Pool, metrics: list[MetricInfo] | None = None) -> dict[str, MetricData]:
    return {m.name: metric_data(pool, m) for m in (metrics or pool.metrics)}


def by_document(pool: Pool, data: dict[str, MetricData] | None = None) -> GroupScores:
    data = data or _all_metric_data(pool)
    group_of = {i: row.doc_id for i, row in enumerate(pool.rows)}
    groups = list(dict.fromkeys(group_of.values()))
    counts = {g: sum(1 for v in group_of.values() if v == g) for g in groups}
    return GroupScores("document", groups, counts, _group_scores(pool, data, group_of, groups))


def by_length(pool: Pool, data: dict[str, MetricData] | None = None) -> GroupScores:
    data = data or _all_metric_data(pool)
    group_of = {i: length_bucket(source_words(row)) for i, row in enumerate(pool.rows)}
    groups = [label for label, _, _ in LENGTH_BUCKETS if label in group_of.values()]
    counts = {g: sum(1 for v in group_of.values() if v == g) for g in groups}
    return GroupScores("length", groups, counts, _group_scores(pool, data, group_of, groups))


@dataclass
class WinTieLoss:
    metric: str
    a: str
    b: str
    wins: int  # rows where a is better than b
    ties: int
    losses: int


def _segment_score(row: Row, key: str, metric: str) -> float | None:
    return row.scores.get(key, {}).get(metric)


def win_tie_loss(pool: Pool, metrics: list[MetricInfo] | None = None) -> list[WinTieLoss]:
    """For every metric and every pair of systems, how many segments each one wins."""
    out = []
    for info in metrics or pool.metrics:
        for a, b in combinations([s.key for s in pool.systems], 2):
            wins = ties = losses = 0
            for row in pool.rows:
                sa, sb = _segment_score(row, a, info.name), _segment_score(row, b, info.name)
                if sa is None or sb is None:
                    continue
                if abs(sa - sb) <= TIE_TOLERANCE:
                    ties += 1
                elif (sa > sb) == info.higher_is_better:
                    wins += 1
                else:
                    losses += 1
            out.append(WinTieLoss(info.name, a, b, wins, ties, losses))
    return out


@dataclass
class SegmentDifference:
    metric: str
    a: str
    b: str
    doc_id: str
    src_ids: tuple[int, ...]
    src: str
    ref: str | None
    hyp_a: str
    hyp_b: str
    score_a: float
    score_b: float

    @property
    def difference(self) -> float:
        return self.score_a - self.score_b


def top_differences(
    pool: Pool, a: str, b: str, metric: MetricInfo, n: int = 5
) -> list[SegmentDifference]:
    """The `n` segments where systems `a` and `b` differ most on `metric`."""
    found = []
    for row in pool.rows:
        sa, sb = _segment_score(row, a, metric.name), _segment_score(row, b, metric.name)
        if sa is None or sb is None or abs(sa - sb) <= TIE_TOLERANCE:
            continue
        found.append(
            SegmentDifference(
                metric.name,
                a,
                b,
                row.doc_id,
                row.src_ids,
                row.src,
                row.ref,
                row.hyp.get(a, ""),
                row.hyp.get(b, ""),
                sa,
                sb,
            )
        )
    found.sort(key=lambda d: (-abs(d.difference), d.doc_id, d.src_ids))
    return found[:n]


def length_ratios(pool: Pool) -> tuple[str, dict[str, np.ndarray]]:
    """Each system's output length (words) over the reference's, on rows with a reference;
    over the source's when no row has one. Returns what the ratio is to, and the ratios."""
    with_ref = [row for row in pool.rows if row.ref and row.ref.split()]
    basis = "reference" if with_ref else "source"
    rows = with_ref or [row for row in pool.rows if row.src.split()]
    out = {}
    for s in pool.systems:
        out[s.key] = np.array(
            [
                len(row.hyp.get(s.key, "").split())
                / len((row.ref if with_ref else row.src).split())
                for row in rows
                if s.key in row.hyp
            ],
            dtype="float64",
        )
    return basis, out
