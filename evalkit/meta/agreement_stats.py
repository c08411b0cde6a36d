"""The agreement of one metric, or of two annotators, with the human scores: which
statistics, on which cells, with which confidence intervals, and the ranking of metrics.

Kept apart from joining a run's scores with the human ones (`agreement.py`), which builds
the (system, item) matrices these read, because the choice and computation of statistics
is a job of its own, the one that follows the WMT metrics task (the statistics themselves
are `stats.py`).

Per metric (scores of lower-is-better metrics such as TER negated first, so that every
statistic reads "higher agrees better"):

  system level   systems with both human and metric scores, on the items judged for every
                 one of them (a complete block, so that all systems are compared on the same
                 segments); a system's score is the mean over those items, for the metric
                 as for the humans (a corpus-level score such as BLEU over the whole test
                 set is not used: humans judged only these items)
                   pairwise accuracy (Kocmi et al. 2021) and soft pairwise accuracy (SPA)
  segment level  acc23 with tie calibration, grouped by item (WMT24's segment-level
                 statistic); Kendall tau-b and Pearson pooled over every (item, system)
                 cell with both scores ("no grouping" in mt-metrics-eval's terms: with two
                 or three systems a per-item correlation would rest on one to three pairs)

Every confidence interval is a 95% bootstrap percentile interval over items (an item's
cells stay together), the same draws for every metric; acc23's epsilon is chosen again in
each resample. A statistic that cannot be computed is None with the reason.

Metrics are ranked by the mean of SPA and acc23 (how WMT24 and WMT25 combine the two
levels), by whichever exists when one is missing; metrics with neither are not ranked.
Ranked metrics are grouped into significance clusters (evalkit.meta.clusters) from the
same resamples.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from evalkit.meta import stats
from evalkit.meta.clusters import significance_clusters
from evalkit.meta.human import HumanScores
from evalkit.record import MetricInfo


@dataclass
class Stat:
    """A statistic, its 95% CI, or why there is none."""

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None
    #: the statistic on each bootstrap resample (None where undefined), in draw order
    resampled: list[float | None] = field(default_factory=list, repr=False)


@dataclass
class MetricAgreement:
    name: str
    signature: str
    higher_is_better: bool
    #: systems with human and metric scores; items and (item, system) cells with both
    systems: int
    items: int
    cells: int
    #: items judged for every system: what the system-level statistics stand on
    system_items: int
    pairwise_accuracy: Stat
    soft_pairwise_accuracy: Stat
    acc23: Stat
    #: acc23's tie threshold (metric differences up to it count as ties), on the metric's scale
    epsilon: float | None
    kendall_tau_b: Stat
    pearson: Stat
    rank: int | None = None
    #: significance cluster (1 = best; evalkit.meta.clusters), None when not ranked or
    #: without resamples
    cluster: int | None = None

    @property
    def _ranking_stats(self) -> list[Stat]:
        return [s for s in (self.soft_pairwise_accuracy, self.acc23) if s.value is not None]

    @property
    def ranking_score(self) -> float | None:
        values = [s.value for s in self._ranking_stats]
        return float(np.mean(values)) if values else None

    def resampled_ranking_score(self) -> np.ndarray:
        """The ranking score on each bootstrap resample (NaN where undefined), from the
        same statistics as `ranking_score`."""
        columns = [
            np.array([np.nan if v is None else v for v in s.resampled], dtype=np.float64)
            for s in self._ranking_stats
        ]
        if not columns or any(len(c) != len(columns[0]) for c in columns) or not len(columns[0]):
            return np.array([], dtype=np.float64)
        stacked = np.vstack(columns)
        # a resample where one of the two is undefined is undefined (no mixing of levels)
        return np.where(np.isnan(stacked).any(axis=0), np.nan, stacked.mean(axis=0))


@dataclass
class AnnotatorAgreement:
    """Two annotators on the (item, system) cells both judged."""

    first: str
    second: str
    cells: int
    items: int
    kendall_tau_b: Stat
    pearson: Stat
    #: segment-level pairwise accuracy between them (exact ties only), grouped by item
    pairwise_accuracy: Stat


def _with_ci(
    value: float | None,
    resampled: Callable[[np.ndarray], float | None],
    draws: np.ndarray,
    reason: str,
) -> Stat:
    if value is None:
        return Stat(None, reason=reason)
    ci = stats.percentile_ci([resampled(idx) for idx in draws]) if len(draws) else None
    return Stat(value, ci)


def _pooled(x: np.ndarray, y: np.ndarray, idx: np.ndarray, fn) -> float | None:
    """A correlation over every cell of the items `idx` (repeats included)."""
    return fn(x[:, idx].ravel(), y[:, idx].ravel())


def _why_no_correlation(x: np.ndarray, y: np.ndarray) -> str:
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 2:
        return "fewer than 2 segment scores"
    return "scores are constant"


class SystemLevel:
    """Pairwise accuracy and SPA on a complete block, with the human side of each bootstrap
    resample computed once and shared by every metric on the same block."""

    def __init__(self, resamples: int, permutations: int, seed: int) -> None:
        self.resamples, self.permutations, self.seed = resamples, permutations, seed
        self._human: dict[tuple, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {}

    def _human_side(self, human: np.ndarray, key: tuple):
        if key not in self._human:
            draws = (
                stats.bootstrap_indices(human.shape[1], self.resamples, self.seed)
                if self.resamples
                else np.empty((0, human.shape[1]), dtype=int)
            )
            masks = stats.sign_masks(human.shape[1], self.permutations, self.seed)
            p_values = [stats.permutation_p_values(human[:, d], masks=masks) for d in draws]
            self._human[key] = (draws, masks, p_values)
        return self._human[key]

    def compute(self, human: np.ndarray, metric: np.ndarray, key: tuple) -> tuple[Stat, Stat]:
        if human.shape[0] < 2:
            reason = "needs 2 systems with human and metric scores"
            return Stat(None, reason=reason), Stat(None, reason=reason)
        if human.shape[1] == 0:
            reason = "no item judged for every system"
            return Stat(None, reason=reason), Stat(None, reason=reason)
        order = stats.best_first(human)
        human, metric = human[order], metric[order]
        draws, masks, human_p = self._human_side(human, key)

        def accuracy(idx: np.ndarray) -> float | None:
            return stats.system_pairwise_accuracy(
                human[:, idx].mean(axis=1), metric[:, idx].mean(axis=1)
            )

        def spa(p_human: np.ndarray, idx: np.ndarray) -> float:
            return stats.spa_from_p_values(
                p_human, stats.permutation_p_values(metric[:, idx], masks=masks)
            )

        everything = np.arange(human.shape[1])
        acc = Stat(accuracy(everything), resampled=[accuracy(d) for d in draws])
        acc.ci = stats.percentile_ci(acc.resampled) if len(draws) else None
        p_all = stats.permutation_p_values(human, masks=masks)
        soft = Stat(
            spa(p_all, everything),
            resampled=[spa(p, d) for p, d in zip(human_p, draws, strict=True)],
        )
        soft.ci = stats.percentile_ci(soft.resampled) if len(draws) else None
        return acc, soft


def metric_agreement(
    metric: MetricInfo,
    human: HumanScores,
    scores: np.ndarray,
    item_draws: np.ndarray,
    system_level: SystemLevel,
) -> MetricAgreement:
    h = human.matrix
    both = ~(np.isnan(h) | np.isnan(scores))
    systems = np.nonzero(both.any(axis=1))[0]
    items = np.nonzero(both.any(axis=0))[0]
    complete = np.nonzero(both[systems].all(axis=0))[0] if len(systems) else np.array([], int)

    h_masked = np.where(both, h, np.nan)
    m_masked = np.where(both, scores, np.nan)
    block = np.ix_(systems, complete)
    acc, soft = system_level.compute(
        h[block], scores[block], (tuple(systems.tolist()), tuple(complete.tolist()))
    )

    pairs = stats.ItemPairs(h_masked, m_masked)
    calibrated = pairs.calibrated()
    if calibrated is None:
        acc23 = Stat(None, reason="no item with 2 systems scored by humans and the metric")
        epsilon = None
    else:
        counts = [np.bincount(d, minlength=h.shape[1]) for d in item_draws]
        resampled = [r.accuracy if r else None for r in map(pairs.calibrated, counts)]
        acc23 = Stat(
            calibrated.accuracy,
            stats.percentile_ci(resampled) if len(counts) else None,
            resampled=resampled,
        )
        epsilon = calibrated.epsilon

    why = _why_no_correlation(h_masked, m_masked)
    tau = _with_ci(
        stats.kendall_tau_b(h_masked.ravel(), m_masked.ravel()),
        lambda idx: _pooled(h_masked, m_masked, idx, stats.kendall_tau_b),
        item_draws,
        why,
    )
    r = _with_ci(
        stats.pearson(h_masked.ravel(), m_masked.ravel()),
        lambda idx: _pooled(h_masked, m_masked, idx, stats.pearson),
        item_draws,
        why,
    )
    return MetricAgreement(
        name=metric.name,
        signature=metric.signature,
        higher_is_better=metric.higher_is_better,
        systems=len(systems),
        items=len(items),
        cells=int(both.sum()),
        system_items=len(complete),
        pairwise_accuracy=acc,
        soft_pairwise_accuracy=soft,
        acc23=acc23,
        epsilon=epsilon,
        kendall_tau_b=tau,
        pearson=r,
    )


def rank_metrics(metrics: list[MetricAgreement]) -> None:
    """1 for the metric with the highest mean of SPA and acc23; equal scores share a rank.
    Then the significance clusters of the ranked metrics (evalkit.meta.clusters)."""
    scored = sorted(
        (m for m in metrics if m.ranking_score is not None),
        key=lambda m: (-(m.ranking_score or 0.0), m.name),
    )
    for position, m in enumerate(scored, start=1):
        previous = scored[position - 2] if position > 1 else None
        if previous is not None and np.isclose(previous.ranking_score, m.ranking_score):
            m.rank = previous.rank
        else:
            m.rank = position
    resampled = [m.resampled_ranking_score() for m in scored]
    if scored and all(len(r) for r in resampled):
        for m, cluster in zip(scored, significance_clusters(resampled), strict=True):
            m.cluster = cluster


def annotator_agreement(human: HumanScores, item_draws: np.ndarray) -> list[AnnotatorAgreement]:
    """Every pair of annotators who judged at least one common (item, system) cell."""
    out = []
    for a, b in itertools.combinations(human.annotators, 2):
        first, second = human.by_annotator[a], human.by_annotator[b]
        shared = ~(np.isnan(first) | np.isnan(second))
        if not shared.any():
            continue
        x, y = np.where(shared, first, np.nan), np.where(shared, second, np.nan)
        why = _why_no_correlation(x, y)
        pairs = stats.ItemPairs(x, y)
        accuracy = pairs.accuracy(0.0)
        counts = [np.bincount(d, minlength=x.shape[1]) for d in item_draws]
        out.append(
            AnnotatorAgreement(
                first=a,
                second=b,
                cells=int(shared.sum()),
                items=int(shared.any(axis=0).sum()),
                kendall_tau_b=_with_ci(
                    stats.kendall_tau_b(x.ravel(), y.ravel()),
                    lambda idx, x=x, y=y: _pooled(x, y, idx, stats.kendall_tau_b),
                    item_draws,
                    why,
                ),
                pearson=_with_ci(
                    stats.pearson(x.ravel(), y.ravel()),
                    lambda idx, x=x, y=y: _pooled(x, y, idx, stats.pearson),
                    item_draws,
                    why,
                ),
                pairwise_accuracy=Stat(
                    accuracy,
                    stats.percentile_ci([pairs.accuracy(0.0, c) for c in counts])
                    if counts
                    else None,
                )
                if accuracy is not None
                else Stat(None, reason="no item where both judged 2 systems"),
            )
        )
    return out
