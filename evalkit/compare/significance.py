"""Confidence intervals and paired significance tests over the rows of a pool.

Lexical metrics (BLEU, chrF, chrF++, TER) are resampled the way sacrebleu does it
(`sacrebleu.significance`): per-segment sufficient statistics are extracted once from the
stored hypothesis and reference texts, and each resample is a sum of statistics scored by
sacrebleu's own metric object. Every other metric is a mean of stored segment scores, and
the same paired resampling applies to those scores.

The paired bootstrap draws its indices exactly as `sacrebleu.significance._paired_bs_test`
(one `numpy.random.default_rng(seed)`, `rng.choice(n, (resamples, n))`, float32 statistics)
and approximate randomization as `_paired_ar_test`, so the p-values are sacrebleu's numbers,
with one deliberate difference: a resampled statistic equal to the observed one counts as
"at least as extreme" (>=, the textbook rule for resampling tests), where sacrebleu counts
only strictly greater ones. On data without exact ties the two are the same number; on a
system compared with itself sacrebleu reports p = 1/(R+1) ("significant"), this reports 1.

Confidence intervals are bootstrap percentile intervals (2.5th and 97.5th percentiles of
the resampled scores, or of the resampled differences for a delta).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from evalkit.align.units import references_of
from evalkit.compare.load import CompareWarning, Pool, Row
from evalkit.errors import UserInputError
from evalkit.metrics.base import Metric
from evalkit.record import MetricInfo
from evalkit.scoring.system import count_references, segment_statistics

if TYPE_CHECKING:
    from evalkit.compare.ranking import GroupRankings, Ranking

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 12345
DEFAULT_ALPHA = 0.05
#: below this many rows, intervals and p-values are shown but flagged as unreliable
FEW_ROWS = 10
TESTS = ("bs", "ar")


@dataclass
class MetricData:
    """The rows a metric is computed on, and how to score any sum of their statistics."""

    info: MetricInfo
    rows: list[int]  # indices into pool.rows
    stats: dict[str, np.ndarray]  # system key -> (n, k) statistics
    score_sums: Callable[[np.ndarray], np.ndarray]  # (m, k) sums -> m scores
    scores: dict[str, float]  # system key -> score on these rows
    #: True when resampled from summed statistics (sacrebleu's way), not segment scores
    from_statistics: bool
    #: said with the output, e.g. when statistics are recomputed under another signature
    note: str | None = None


def _resampled_from_statistics(name: str) -> Metric | None:
    """The metric, built by name, when it resamples sums of statistics (sacrebleu's way);
    None when its stored segment scores are resampled (or it is not installed here)."""
    from evalkit.metrics import create_metrics

    try:
        (metric,) = create_metrics([name])
    except UserInputError:
        return None
    return metric if metric.resampling == "statistics" else None


def metric_data(pool: Pool, info: MetricInfo) -> MetricData:
    """The metric's per-row statistics for every system, computed once per pool; lexical
    statistics are read from `pool.statistics` where a run stored them."""
    if info.name not in pool.computed:
        pool.computed[info.name] = _metric_data(pool, info)
    return pool.computed[info.name]


def _metric_data(pool: Pool, info: MetricInfo) -> MetricData:
    keys = [s.key for s in pool.systems]
    metric = _resampled_from_statistics(info.name)
    if metric is not None:
        rows = [
            i
            for i, row in enumerate(pool.rows)
            if row.ref is not None and all(k in row.hyp for k in keys)
        ]
        refs = [references_of(pool.rows[i].ref, pool.rows[i].more_refs) for i in rows]
        count_references([metric], refs)
        srcs = [pool.rows[i].src for i in rows]
        hyps = {k: [pool.rows[i].hyp[k] for i in rows] for k in keys}
        raw = {k: segment_statistics(metric, hyps[k], refs, srcs, pool.statistics) for k in keys}
        # float32 statistics, as sacrebleu resamples them; the point score from the exact ones
        stats = {
            k: np.array(raw[k], dtype="float32").reshape(len(rows), -1)
            if rows
            else np.zeros((0, 1), dtype="float32")
            for k in keys
        }
        scores = {k: metric.corpus_score(raw[k]) if rows else float("nan") for k in keys}
        note = None
        if metric.signature() != info.signature:
            note = (
                f"{info.name}: statistics recomputed as {metric.signature()!r}, the runs "
                f"stored {info.signature!r}"
            )
        return MetricData(
            info, rows, stats, metric.scores_of_sums, scores, from_statistics=True, note=note
        )

    def value(row: Row, key: str) -> float | None:
        return row.scores.get(key, {}).get(info.name)

    rows = [i for i, row in enumerate(pool.rows) if all(value(row, k) is not None for k in keys)]
    n = len(rows)
    stats = {
        k: np.array([[value(pool.rows[i], k)] for i in rows], dtype="float64").reshape(n, 1)
        for k in keys
    }

    def mean_of_sums(sums: np.ndarray) -> np.ndarray:
        return sums[:, 0] / n

    scores = {k: float(stats[k].mean()) if n else float("nan") for k in keys}
    return MetricData(info, rows, stats, mean_of_sums, scores, from_statistics=False)


def _p_value(resampled: np.ndarray, observed: float) -> float:
    """(#resampled statistics at least as extreme as the observed one + 1) / (R + 1)."""
    count = int(np.sum(resampled >= observed))
    return (count + 1) / (len(resampled) + 1)


def bootstrap_indices(n: int, resamples: int, seed: int | None) -> np.ndarray:
    """The resample indices, drawn as sacrebleu's paired bootstrap draws them."""
    rng = np.random.default_rng(seed)
    return rng.choice(n, size=(resamples, n), replace=True)


def resample_counts(idxs: np.ndarray, n: int) -> np.ndarray:
    """How often each row is drawn in each resample: (resamples, n), from the indices."""
    resamples = len(idxs)
    flat = (idxs + np.arange(resamples)[:, None] * n).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n)


def resample_sums(counts: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """The summed statistics of every resample, without materialising (resamples, n, k).

    Integer statistics (sacrebleu's) give exact integer sums, returned in their own dtype
    (float32), so they are the very numbers sacrebleu's `stats[idxs].sum(1)` produces."""
    sums = counts.astype("float64") @ stats.astype("float64")
    return sums.astype(stats.dtype)


def paired_bootstrap_p(
    bl_scores: np.ndarray, sys_scores: np.ndarray, observed_diff: float
) -> float:
    """sacrebleu's paired bootstrap p-value from resampled scores of two systems."""
    sample_diffs = np.abs(sys_scores - bl_scores)
    return _p_value(sample_diffs - sample_diffs.mean(), observed_diff)


def approximate_randomization_p(
    data: MetricData, baseline: str, system: str, resamples: int, seed: int | None
) -> float:
    """sacrebleu's paired approximate randomization: swap each row's outputs at random."""
    bl, sy = data.stats[baseline].astype("float64"), data.stats[system].astype("float64")
    observed = abs(data.scores[baseline] - data.scores[system])
    rng = np.random.default_rng(seed)
    pos = rng.integers(2, size=(resamples, len(bl)), dtype=bool)
    neg = ~pos
    a = data.score_sums(pos @ bl + neg @ sy)
    b = data.score_sums(neg @ bl + pos @ sy)
    return _p_value(np.abs(a - b), observed)


@dataclass
class Cell:
    """One system's numbers for one metric."""

    system: str
    score: float | None
    ci: tuple[float, float] | None
    n: int
    delta: float | None = None  # system - baseline
    delta_ci: tuple[float, float] | None = None
    p_value: float | None = None
    significant: bool = False
    #: True when the system is better than the baseline (direction of the metric respected)
    better: bool | None = None

    @property
    def few_rows(self) -> bool:
        return self.n < FEW_ROWS


@dataclass
class Comparison:
    pool: Pool
    baseline: str
    metrics: list[MetricInfo]
    cells: dict[str, dict[str, Cell]]  # metric -> system key -> cell
    resamples: int
    seed: int | None
    test: str
    alpha: float
    warnings: list[CompareWarning] = field(default_factory=list)
    #: every system ranked and clustered (evalkit/compare/ranking.py), when asked or
    #: by default from three systems on; per group with `--by-group`
    ranking: Ranking | None = None
    group_rankings: GroupRankings | None = None

    @property
    def systems(self) -> list[str]:
        return [s.key for s in self.pool.systems]


def _percentile(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def compare(
    pool: Pool,
    baseline: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = DEFAULT_SEED,
    test: str = "bs",
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """Every metric of the pool: each system's score with a 95% CI, and against the baseline
    the difference (with its CI), its p-value and whether it is significant at `alpha`."""
    if test not in TESTS:
        raise UserInputError(f"--test must be one of {', '.join(TESTS)}, not {test!r}")
    if resamples < 1:
        raise UserInputError("--resamples must be at least 1")
    base = pool.system(baseline).key if baseline else pool.systems[0].key
    keys = [s.key for s in pool.systems]
    warnings = list(pool.warnings)
    cells: dict[str, dict[str, Cell]] = {}
    for info in pool.metrics:
        data = metric_data(pool, info)
        n = len(data.rows)
        cells[info.name] = {}
        if data.note:
            warnings.append(CompareWarning("recomputed", data.note))
        if n == 0:
            warnings.append(
                CompareWarning("no-rows", f"{info.name}: no row has a score for every system")
            )
            for k in keys:
                cells[info.name][k] = Cell(k, None, None, 0)
            continue
        if n < FEW_ROWS:
            warnings.append(
                CompareWarning(
                    "few-rows",
                    f"{info.name}: only {n} row{'s' if n != 1 else ''}; its intervals and "
                    "p-values say little",
                )
            )
        counts = resample_counts(bootstrap_indices(n, resamples, seed), n)
        scores = data.scores
        resampled = {k: data.score_sums(resample_sums(counts, data.stats[k])) for k in keys}
        for k in keys:
            cell = Cell(k, scores[k], _percentile(resampled[k]), n)
            if k != base:
                cell.delta = scores[k] - scores[base]
                cell.delta_ci = _percentile(resampled[k] - resampled[base])
                observed = abs(cell.delta)
                if n < 2:
                    pass  # one row: every resample is the same row; no test is possible
                elif test == "bs":
                    cell.p_value = paired_bootstrap_p(resampled[base], resampled[k], observed)
                else:
                    cell.p_value = approximate_randomization_p(data, base, k, resamples, seed)
                cell.significant = (
                    cell.p_value is not None and cell.p_value < alpha and n >= FEW_ROWS
                )
                if cell.delta != 0:
                    cell.better = (cell.delta > 0) == info.higher_is_better
            cells[info.name][k] = cell
    return Comparison(pool, base, list(pool.metrics), cells, resamples, seed, test, alpha, warnings)
