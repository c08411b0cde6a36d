"""Significance clusters of metrics: which metrics' agreement with people differs by more
than chance, as WMT's metrics task reports it.

The test is a paired bootstrap on the ranking score (the mean of SPA and acc23): every
metric was resampled on the same item draws, so for two metrics the k-th resamples are
paired, and the p-value that the higher-ranked metric A is not better than B is the
share of resamples where A's score minus B's is at most 0 (Koehn 2004's paired bootstrap;
mt-metrics-eval uses a permutation test for the same question). Clusters follow
mt-metrics-eval's rule: going down the ranking, a metric starts a new cluster when it is
significantly worse than any metric of the current one; metrics in one cluster are not
told apart by this evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: one-sided p-value below which a difference counts as significant
SIGNIFICANCE = 0.05


def paired_p_value(better: np.ndarray, worse: np.ndarray) -> float | None:
    """Share of paired resamples where `better` does not beat `worse`; resamples where
    either is undefined (NaN) are left out. None when none are left."""
    both = ~(np.isnan(better) | np.isnan(worse))
    if not both.any():
        return None
    return float(np.mean(better[both] - worse[both] <= 0.0))


def assign_clusters(p_values: np.ndarray, threshold: float = SIGNIFICANCE) -> list[int]:
    """Cluster numbers (1 = best) of metrics sorted best first, from `p_values[i, j]`
    (i above j): the p-value that metric i is not better than metric j; NaN when unknown,
    which never separates two metrics."""
    clusters: list[int] = []
    current, start = 1, 0
    for j in range(p_values.shape[0]):
        above = p_values[start:j, j]
        if j > 0 and np.any(above[~np.isnan(above)] < threshold):
            current, start = current + 1, j
        clusters.append(current)
    return clusters


def significance_clusters(
    resampled: Sequence[np.ndarray], threshold: float = SIGNIFICANCE
) -> list[int]:
    """Clusters of metrics given best first by their resampled ranking scores."""
    n = len(resampled)
    p_values = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i + 1, n):
            p = paired_p_value(resampled[i], resampled[j])
            p_values[i, j] = np.nan if p is None else p
    return assign_clusters(p_values, threshold)
