"""How well one set of scores agrees with another: the statistics of the WMT metrics task.

Pure functions on numpy arrays, written after google-research/mt-metrics-eval
(`stats.py`, `tau_optimization.py`, `pce.py`) so that the numbers mean what they mean at
WMT. Segment scores come as matrices shaped (systems, items): row s holds system s's
scores of the items (source segments), NaN where a score is missing. Every score is
"higher is better" (callers flip the sign of metrics such as TER first).

  system_pairwise_accuracy   Kocmi et al. 2021: share of system pairs ordered alike
  soft_pairwise_accuracy     Thompson et al. 2024 (WMT24 SPA): 1 - mean |p_human - p_metric|
                             over system pairs, p from a paired permutation test
  tie_calibrated_accuracy    Deutsch, Foster & Freitag 2023 ("Ties Matter") acc23, with the
                             tie threshold epsilon that maximises it, grouped by item
  kendall_tau_b, pearson     scipy.stats; None where undefined (too few or constant values)
  bootstrap_indices, percentile_ci
                             resampling of items for confidence intervals

A statistic that cannot be computed (fewer than two systems, no pair of scores) is None,
never NaN, so callers can say why instead of printing `nan`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike

DEFAULT_PERMUTATIONS = 1000
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 12345
CONFIDENCE = 0.95


def _matrix(scores: ArrayLike) -> np.ndarray:
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a (systems, items) matrix, got shape {matrix.shape}")
    return matrix


def _signs_agree(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: both differences have the same sign, a tie (0) agreeing only with a tie."""
    return np.sign(a) == np.sign(b)


def system_pairwise_accuracy(human: ArrayLike, metric: ArrayLike) -> float | None:
    """Share of system pairs that the metric orders as the humans do (Kocmi et al. 2021).

    `human` and `metric` are one score per system. As mt-metrics-eval's `Agreement`: a pair
    agrees when both differences have the same sign, so a pair tied by both counts as agreeing
    and a pair tied by one side only does not. None with fewer than two systems."""
    h, m = np.asarray(human, dtype=np.float64), np.asarray(metric, dtype=np.float64)
    if h.shape != m.shape or h.ndim != 1:
        raise ValueError("human and metric need one score per system each")
    if len(h) < 2:
        return None
    i, j = np.triu_indices(len(h), 1)
    return float(_signs_agree(h[i] - h[j], m[i] - m[j]).mean())


def sign_masks(items: int, permutations: int, seed: int) -> np.ndarray:
    """±1 masks, one row per permutation: each item's two scores swapped or not.

    With 2**items <= permutations every mask is listed once (an exact test, the same
    numbers whatever the seed); otherwise `permutations` random masks from the seed."""
    if 2**items <= permutations:
        codes = np.arange(2**items)[:, None]
        return ((codes >> np.arange(items)) & 1) * 2.0 - 1.0
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size=(permutations, items)) * 2.0 - 1.0


def permutation_p_values(
    scores: ArrayLike,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    masks: np.ndarray | None = None,
) -> np.ndarray:
    """p[i, j] (i < j) of a one-sided paired permutation test that system i is better than
    system j on these items; NaN elsewhere (mt-metrics-eval `pce.compute_pairwise_p_values`).

    Each permutation swaps the two systems' scores on a random set of items (one mask for
    every pair, as there); p is the share of permutations whose difference of sums is at
    least the observed one. The observed difference gets a relative tolerance of 1e-9 so
    that rounding never decides whether the unpermuted mask counts."""
    matrix = _matrix(scores)
    if np.isnan(matrix).any():
        raise ValueError("permutation p-values need a score for every system and item")
    systems, items = matrix.shape
    if masks is None:
        masks = sign_masks(items, permutations, seed)
    totals = matrix.sum(axis=1)
    partial = masks @ matrix.T  # (permutations, systems)
    p = np.full((systems, systems), np.nan)
    for i in range(systems):
        for j in range(i + 1, systems):
            observed = totals[i] - totals[j]
            tolerance = 1e-9 * max(1.0, abs(observed))
            p[i, j] = float(np.mean(partial[:, i] - partial[:, j] >= observed - tolerance))
    return p


def soft_pairwise_accuracy(
    human: ArrayLike,
    metric: ArrayLike,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> float | None:
    """SPA (Thompson et al. 2024; WMT24's system-level statistic): 1 minus the mean, over
    system pairs, of |p_human - p_metric|, each p from `permutation_p_values` on the same
    items with the same masks. 1 when the metric is as sure as the humans about every pair.
    Needs complete matrices (systems, items); None with fewer than two systems."""
    h, m = _matrix(human), _matrix(metric)
    if h.shape != m.shape:
        raise ValueError("human and metric matrices differ in shape")
    if h.shape[0] < 2 or h.shape[1] < 1:
        return None
    order = best_first(h)
    h, m = h[order], m[order]
    masks = sign_masks(h.shape[1], permutations, seed)
    return spa_from_p_values(
        permutation_p_values(h, masks=masks), permutation_p_values(m, masks=masks)
    )


def best_first(human: np.ndarray) -> np.ndarray:
    """The order of systems (rows) by the humans' totals, best first, for SPA.

    mt-metrics-eval takes systems in the order given. For a metric that ties two systems
    (p = 1 both ways) SPA then depends on that order: a constant metric scores 1.0 when the
    systems happen to be listed worst-first. Best-first, a tie where people are sure counts
    as the error it is; for untied pairs p(i > j) = 1 - p(j > i) up to the permutation
    grid, so nothing else moves."""
    return np.argsort(-_matrix(human).sum(axis=1), kind="stable")


def spa_from_p_values(human_p: np.ndarray, metric_p: np.ndarray) -> float:
    """1 - mean |p_human - p_metric| over the upper triangle (`pce.compute_one_minus_pce`)."""
    upper = np.triu_indices(human_p.shape[0], 1)
    return float(1.0 - np.mean(np.abs(human_p - metric_p)[upper]))


@dataclass(frozen=True)
class TieCalibrated:
    """acc23 at its best tie threshold: metric differences with |d| <= epsilon are ties."""

    accuracy: float
    epsilon: float


class ItemPairs:
    """Every pair of systems within every item, with what acc23 needs to know of it.

    Built once from (systems, items) matrices; `accuracy` and `calibrated` then take item
    weights, so a bootstrap resample (how many times each item was drawn) costs one
    weighted sum instead of rebuilding the pairs."""

    def __init__(self, human: ArrayLike, metric: ArrayLike) -> None:
        h, m = _matrix(human), _matrix(metric)
        if h.shape != m.shape:
            raise ValueError("human and metric matrices differ in shape")
        systems, self.items = h.shape
        i, j = np.triu_indices(systems, 1)
        dh = h[i, :] - h[j, :]  # (pairs of systems, items)
        dm = m[i, :] - m[j, :]
        present = ~(np.isnan(dh) | np.isnan(dm))
        pair_sys, item = np.nonzero(present)
        self.item = item
        dh, dm = dh[pair_sys, item], dm[pair_sys, item]
        self.gap = np.abs(dm)
        human_tie = dh == 0
        #: right when the metric does not tie the pair / when it does
        self.right_untied = (~human_tie & _signs_agree(dh, dm) & (dm != 0)).astype(float)
        self.right_tied = human_tie.astype(float)
        self.pairs_per_item = np.bincount(item, minlength=self.items)
        self.order = np.argsort(self.gap, kind="stable")

    def _pair_weights(self, item_weights: np.ndarray | None) -> np.ndarray | None:
        """Each pair's share of the group-by-item mean: item weight / item's pairs / total."""
        weights = np.ones(self.items) if item_weights is None else np.asarray(item_weights, float)
        weights = np.where(self.pairs_per_item > 0, weights, 0.0)
        total = weights.sum()
        if total == 0:
            return None
        per_item = weights / np.maximum(self.pairs_per_item, 1) / total
        return per_item[self.item]

    def accuracy(self, epsilon: float, item_weights: np.ndarray | None = None) -> float | None:
        """acc23 at a given threshold, averaged over items (each item's share of its pairs
        that are right, then the mean over items with at least one pair)."""
        w = self._pair_weights(item_weights)
        if w is None:
            return None
        tied = self.gap <= epsilon
        return float(np.sum(w * np.where(tied, self.right_tied, self.right_untied)))

    def calibrated(self, item_weights: np.ndarray | None = None) -> TieCalibrated | None:
        """acc23 at the threshold that maximises it, searched as `tau_optimization` does:
        the candidates are 0 and every pair's metric difference; the smallest best wins."""
        w = self._pair_weights(item_weights)
        if w is None:
            return None
        gap = self.gap[self.order]
        w = w[self.order]
        base = float(np.sum(w * self.right_untied[self.order]))
        change = np.cumsum(w * (self.right_tied - self.right_untied)[self.order])
        candidates = np.unique(np.concatenate(([0.0], gap)))
        upto = np.searchsorted(gap, candidates, side="right")  # pairs tied at each candidate
        totals = base + np.concatenate(([0.0], change))[upto]
        best = int(np.argmax(totals >= totals.max() - 1e-12))
        return TieCalibrated(float(totals[best]), float(candidates[best]))


def tie_calibrated_accuracy(human: ArrayLike, metric: ArrayLike) -> TieCalibrated | None:
    """Segment-level pairwise accuracy with tie calibration (acc23, "Ties Matter"), grouped
    by item: for each item every pair of systems both scored, right when metric and humans
    order it alike or both tie; metric ties are |difference| <= epsilon, epsilon chosen to
    maximise the mean over items. None when no item has a pair."""
    return ItemPairs(human, metric).calibrated()


def pairwise_accuracy_at(human: ArrayLike, metric: ArrayLike, epsilon: float = 0.0) -> float | None:
    """acc23 at a fixed threshold (0: exact ties only), grouped by item; None without pairs.
    Between two annotators this is their segment-level pairwise agreement."""
    return ItemPairs(human, metric).accuracy(epsilon)


def _finite_pairs(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    return a[keep], b[keep]


def _defined(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def kendall_tau_b(x: ArrayLike, y: ArrayLike) -> float | None:
    """Kendall's tau-b (ties in either vector corrected for), pairs with a NaN left out;
    None with fewer than two pairs or when either side is constant."""
    a, b = _finite_pairs(x, y)
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    return _defined(scipy.stats.kendalltau(a, b, variant="b").statistic)


def pearson(x: ArrayLike, y: ArrayLike) -> float | None:
    """Pearson's r, pairs with a NaN left out; None with fewer than two pairs or a constant
    side (where r is undefined)."""
    a, b = _finite_pairs(x, y)
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns for near-constant input; r stays defined
        return _defined(scipy.stats.pearsonr(a, b).statistic)


def bootstrap_indices(items: int, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED):
    """(resamples, items) indices of items drawn with replacement. Every statistic of one
    meta-evaluation uses the same draws, so their intervals are paired."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, items, size=(resamples, items))


def percentile_ci(
    values: list[float | None], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """The percentile interval of resampled statistics; resamples where the statistic was
    undefined (e.g. a constant resample) are left out. None when fewer than half are left."""
    kept = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if len(kept) == 0 or len(kept) < len(values) / 2:
        return None
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(kept, [tail, 100 - tail])
    return float(low), float(high)
