"""Every system of a comparison ranked, as WMT ranks them: per metric a rank and a
significance cluster, and WMT24's AutoRank over a named set of metrics.

Clusters. Systems are sorted by the metric's corpus score, best first (the metric's
direction respected). Going down that order, a new cluster starts where a system is
significantly worse than the system just above it: the same paired test `compare` uses
against a baseline (`evalkit/compare/significance.py`: sacrebleu's paired bootstrap, or
approximate randomization), run between neighbours, p < alpha. Cluster 1 is the best;
systems in one cluster are not told apart by this test set. A boundary needs as many rows
as a significant difference needs in `compare` (FEW_ROWS): on fewer, every system stays
in cluster 1. The walk itself is `evalkit/meta/clusters.assign_clusters`, the rule the
meta-evaluation applies to metrics, given only the neighbours' p-values.

Rank is the position in the sorted order (1 = best); systems with the very same score
share the better rank, since their order would otherwise be the order they were named in.

AutoRank (WMT24 general task): each metric's corpus scores are rescaled linearly so that
the best system gets 1 and the worst gets N (the number of systems), then averaged over
the metrics of the set. Lower is better.

Per group (`--by-group KEY`): the same ranking on the rows of each group of documents,
the groups read from the documents' metadata in run.json (`DocumentInfo.meta`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from evalkit.compare.load import Pool
from evalkit.compare.significance import (
    FEW_ROWS,
    Comparison,
    MetricData,
    approximate_randomization_p,
    bootstrap_indices,
    metric_data,
    paired_bootstrap_p,
    resample_counts,
    resample_sums,
)
from evalkit.errors import UserInputError
from evalkit.meta.clusters import assign_clusters
from evalkit.record import MetricInfo

#: below this many systems a comparison is not ranked unless asked (`--rank`)
RANK_BY_DEFAULT_FROM = 3
TEST_NAMES = {"bs": "paired bootstrap", "ar": "approximate randomization"}


@dataclass(frozen=True)
class RankEntry:
    """One system's place under one metric."""

    system: str
    rank: int
    cluster: int
    score: float
    #: the test against the system ranked just above: None for the first, and where no
    #: test is possible (one row)
    p_value: float | None = None
    #: score minus the score of the system just above (None for the first)
    delta: float | None = None


@dataclass(frozen=True)
class AutoRankEntry:
    """One system's AutoRank, with the rescaled score of each metric it averages."""

    system: str
    autorank: float
    rescaled: dict[str, float]


@dataclass
class Ranking:
    """The ranking of every system on one set of rows (the whole pool, or one group)."""

    #: metric -> entries, best first; metrics without a row are left out
    metrics: dict[str, list[RankEntry]]
    #: metric -> rows it was ranked on
    rows: dict[str, int]
    #: best (lowest) first
    autorank: list[AutoRankEntry]
    autorank_metrics: list[str]
    #: the cluster rule, with the test, resamples and alpha used
    rule: str
    autorank_rule: str
    notes: list[str] = field(default_factory=list)


@dataclass
class GroupRankings:
    """`--by-group KEY`: a ranking per value of the documents' KEY."""

    key: str
    #: group value -> ranking, groups in the order their first row comes in
    groups: dict[str, Ranking]
    #: documents without KEY (their rows are in no group)
    documents_without: int = 0


def wants_ranking(systems: int, rank: bool | None, by_group: str | None = None) -> bool:
    """Rank when asked (`--rank`), when ranking per group, and by default from three
    systems on: with two, the baseline view already says everything a ranking would."""
    if rank is False and by_group:
        raise UserInputError("--by-group ranks systems per group: leave out --no-rank")
    if rank is not None:
        return rank
    return bool(by_group) or systems >= RANK_BY_DEFAULT_FROM


def cluster_rule(test: str, resamples: int, alpha: float, metric: str = "each metric") -> str:
    """The rule, said with the output, so that a reader can check what a cluster means."""
    name = TEST_NAMES.get(test, test)
    return (
        f"clusters: systems sorted by {metric}; a new cluster starts where a system is "
        f"significantly worse than the one above it ({name}, {resamples} resamples, "
        f"p<{alpha}; none on fewer than {FEW_ROWS} rows); cluster 1 is the best; "
        "rank: position in that order, 1 = best, equal scores share a rank"
    )


def autorank_rule(metrics: Sequence[str], systems: int) -> str:
    """What AutoRank averaged, and over which metrics."""
    named = ", ".join(metrics) or "no metric"
    return (
        f"autorank (WMT24 AutoRank) over {named}: each metric's corpus scores rescaled "
        f"linearly, best system 1 and worst {systems}, then averaged; lower is better"
    )


def sorted_systems(scores: Mapping[str, float], higher_is_better: bool) -> list[str]:
    """Systems best first; equal scores keep the order the systems were given in."""
    sign = -1.0 if higher_is_better else 1.0
    return sorted(scores, key=lambda key: sign * scores[key])


def shared_ranks(ordered: Sequence[str], scores: Mapping[str, float]) -> list[int]:
    """1-based positions, a system with the same score as the one above taking its rank."""
    ranks: list[int] = []
    for i, key in enumerate(ordered):
        tied = i > 0 and scores[key] == scores[ordered[i - 1]]
        ranks.append(ranks[-1] if tied else i + 1)
    return ranks


def neighbour_p_values(
    data: MetricData, ordered: Sequence[str], resamples: int, seed: int | None, test: str
) -> list[float | None]:
    """p-value of each system against the one above it (None for the first, and on one
    row), from significance.py's paired tests on the very draws `compare` makes."""
    n = len(data.rows)
    out: list[float | None] = [None] * len(ordered)
    if n < 2 or len(ordered) < 2:
        return out
    if test == "bs":
        counts = resample_counts(bootstrap_indices(n, resamples, seed), n)
        resampled = {k: data.score_sums(resample_sums(counts, data.stats[k])) for k in ordered}
    for i in range(1, len(ordered)):
        above, below = ordered[i - 1], ordered[i]
        if test == "bs":
            observed = abs(data.scores[above] - data.scores[below])
            out[i] = paired_bootstrap_p(resampled[above], resampled[below], observed)
        else:
            out[i] = approximate_randomization_p(data, above, below, resamples, seed)
    return out


def clusters_of(p_values: Sequence[float | None], rows: int, alpha: float) -> list[int]:
    """Clusters from the neighbours' p-values, by `meta.clusters.assign_clusters` given
    only those (NaN elsewhere never separates): a boundary wherever p < alpha, and none
    on fewer than FEW_ROWS rows, where `compare` calls nothing significant either."""
    size = len(p_values)
    matrix = np.full((size, size), np.nan)
    if rows >= FEW_ROWS:
        for i in range(1, size):
            p = p_values[i]
            matrix[i - 1, i] = np.nan if p is None else p
    return assign_clusters(matrix, alpha)


def rank_metric(
    data: MetricData, info: MetricInfo, resamples: int, seed: int | None, test: str, alpha: float
) -> list[RankEntry]:
    """Every system's rank and cluster under one metric, best first."""
    scores = data.scores
    ordered = sorted_systems(scores, info.higher_is_better)
    p_values = neighbour_p_values(data, ordered, resamples, seed, test)
    clusters = clusters_of(p_values, len(data.rows), alpha)
    ranks = shared_ranks(ordered, scores)
    return [
        RankEntry(
            key,
            ranks[i],
            clusters[i],
            scores[key],
            p_values[i],
            scores[key] - scores[ordered[i - 1]] if i else None,
        )
        for i, key in enumerate(ordered)
    ]


def rescale(scores: Mapping[str, float], higher_is_better: bool, systems: int) -> dict[str, float]:
    """AutoRank's rescaling of one metric: best system 1, worst `systems`, linear between;
    every system 1 when all scores are equal."""
    values = list(scores.values())
    best = max(values) if higher_is_better else min(values)
    worst = min(values) if higher_is_better else max(values)
    if best == worst:
        return dict.fromkeys(scores, 1.0)
    # the share of the way from best to worst first, so that the worst is exactly N
    return {k: 1.0 + (systems - 1) * ((best - v) / (best - worst)) for k, v in scores.items()}


def autorank(
    scores: Mapping[str, Mapping[str, float]], higher_is_better: Mapping[str, bool]
) -> list[AutoRankEntry]:
    """WMT24's AutoRank from corpus scores (`scores[metric][system]`), best first: the
    mean over the metrics of each system's rescaled score. Equal AutoRanks keep the
    systems' order."""
    if not scores:
        return []
    systems = list(next(iter(scores.values())))
    rescaled = {m: rescale(s, higher_is_better[m], len(systems)) for m, s in scores.items()}
    entries = [
        AutoRankEntry(
            key,
            float(np.mean([rescaled[m][key] for m in scores])),
            {m: rescaled[m][key] for m in scores},
        )
        for key in systems
    ]
    return sorted(entries, key=lambda e: e.autorank)


def _mean_of(count: int) -> Callable[[np.ndarray], np.ndarray]:
    """Scores of summed segment scores over `count` rows (a mean metric's `score_sums`)."""

    def mean_of_sums(sums: np.ndarray) -> np.ndarray:
        return sums[:, 0] / count

    return mean_of_sums


def restricted(data: MetricData, rows: set[int]) -> MetricData:
    """The metric's data on a subset of the pool's rows, scored as corpus scores are:
    sums of statistics for lexical metrics, means of segment scores otherwise."""
    positions = [j for j, i in enumerate(data.rows) if i in rows]
    stats = {k: s[positions] for k, s in data.stats.items()}
    score_sums = data.score_sums if data.from_statistics else _mean_of(len(positions))
    scores = {
        k: float(score_sums(s.astype("float64").sum(0)[None])[0]) if positions else float("nan")
        for k, s in stats.items()
    }
    return replace(
        data,
        rows=[data.rows[j] for j in positions],
        stats=stats,
        score_sums=score_sums,
        scores=scores,
    )


def _autorank_names(
    ranked: Sequence[MetricInfo], wanted: Sequence[str] | None, all_metrics: Sequence[MetricInfo]
) -> list[str]:
    """The AutoRank metric set: the named metrics (each must be compared), or every
    ranked one; a named metric without rows is left out."""
    if not wanted:
        return [m.name for m in ranked]
    known = [m.name for m in all_metrics]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UserInputError(
            f"--autorank-metrics: {unknown[0]!r} is not a compared metric "
            f"(compared: {', '.join(known) or 'none'})"
        )
    ranked_names = {m.name for m in ranked}
    return [name for name in dict.fromkeys(wanted) if name in ranked_names]


def rank_systems(
    pool: Pool,
    metrics: Sequence[MetricInfo],
    resamples: int,
    seed: int | None,
    test: str,
    alpha: float,
    autorank_metrics: Sequence[str] | None = None,
    rows: set[int] | None = None,
) -> Ranking:
    """Rank and cluster every system under each metric, and their AutoRank, on the
    pool's rows (or on `rows`, indices into them)."""
    ranked: list[MetricInfo] = []
    entries: dict[str, list[RankEntry]] = {}
    counts: dict[str, int] = {}
    notes: list[str] = []
    for info in metrics:
        data = metric_data(pool, info)
        if rows is not None:
            data = restricted(data, rows)
        if not data.rows:
            notes.append(f"{info.name}: no row has a score for every system; not ranked")
            continue
        ranked.append(info)
        entries[info.name] = rank_metric(data, info, resamples, seed, test, alpha)
        counts[info.name] = len(data.rows)
    names = _autorank_names(ranked, autorank_metrics, metrics)
    scores = {name: {e.system: e.score for e in entries[name]} for name in names}
    directions = {m.name: m.higher_is_better for m in ranked}
    return Ranking(
        entries,
        counts,
        autorank(scores, directions),
        names,
        cluster_rule(test, resamples, alpha),
        autorank_rule(names, len(pool.systems)),
        notes,
    )


def rank_comparison(
    comparison: Comparison, autorank_metrics: Sequence[str] | None = None
) -> Ranking:
    """The ranking of a comparison's systems, with its test, resamples, seed and alpha."""
    return rank_systems(
        comparison.pool,
        comparison.metrics,
        comparison.resamples,
        comparison.seed,
        comparison.test,
        comparison.alpha,
        autorank_metrics,
    )


def document_groups(pool: Pool, key: str) -> dict[str, str]:
    """doc_id -> the value of `key` in the documents' metadata (run.json), over every
    compared run; documents without it are not in the mapping."""
    found: dict[str, str] = {}
    for run in pool.runs:
        for doc in run.record.test_set.documents:
            value = doc.meta.get(key)
            if value is not None:
                found.setdefault(doc.id, value)
    if not found:
        keys = sorted(
            {k for run in pool.runs for d in run.record.test_set.documents for k in d.meta}
        )
        carried = ", ".join(keys) if keys else "none (run.json records no document metadata)"
        raise UserInputError(
            f"--by-group {key}: no document of the compared runs has {key!r} "
            f"(metadata keys: {carried})"
        )
    return found


def rank_by_group(
    comparison: Comparison,
    group_of: Mapping[str, str],
    key: str,
    autorank_metrics: Sequence[str] | None = None,
) -> GroupRankings:
    """The same ranking on the rows of each group of documents (`group_of`: doc_id ->
    group); rows of documents in no group are left out."""
    pool = comparison.pool
    members: dict[str, set[int]] = {}
    for i, row in enumerate(pool.rows):
        group = group_of.get(row.doc_id)
        if group is not None:
            members.setdefault(group, set()).add(i)
    groups = {
        group: rank_systems(
            pool,
            comparison.metrics,
            comparison.resamples,
            comparison.seed,
            comparison.test,
            comparison.alpha,
            autorank_metrics,
            rows,
        )
        for group, rows in members.items()
    }
    documents = {row.doc_id for row in pool.rows}
    return GroupRankings(key, groups, len(documents - set(group_of)))
