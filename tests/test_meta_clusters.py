"""Significance clusters of metrics: the paired bootstrap p-value and mt-metrics-eval's
cluster rule, on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.meta.clusters import assign_clusters, paired_p_value, significance_clusters

nan = np.nan


def test_the_p_value_is_the_share_of_paired_resamples_not_won() -> None:
    better = np.array([0.9, 0.8, 0.7, 0.6])
    worse = np.array([0.5, 0.8, 0.9, 0.1])  # won, tied, lost, won
    assert paired_p_value(better, worse) == pytest.approx(2 / 4)


def test_undefined_resamples_are_left_out_of_the_p_value() -> None:
    assert paired_p_value(np.array([0.9, nan, 0.7]), np.array([0.1, 0.2, nan])) == 0.0
    assert paired_p_value(np.array([nan]), np.array([0.3])) is None


def test_a_metric_starts_a_cluster_when_worse_than_any_metric_of_the_current_one() -> None:
    # four metrics best first; p[i, j]: chance that i is not better than j
    p = np.array(
        [
            [nan, 0.30, 0.01, 0.00],
            [nan, nan, 0.20, 0.01],
            [nan, nan, nan, 0.40],
            [nan, nan, nan, nan],
        ]
    )
    # 2 is level with 1 but clearly below 0, so it opens cluster 2 (with 1 left in cluster
    # 1); 3 is level with 2, the only member of cluster 2 before it
    assert assign_clusters(p) == [1, 1, 2, 2]


def test_unknown_p_values_never_separate_metrics() -> None:
    p = np.full((3, 3), nan)
    assert assign_clusters(p) == [1, 1, 1]


def test_clusters_from_resamples() -> None:
    rng = np.random.default_rng(0)
    strong = 0.9 + 0.01 * rng.standard_normal(200)
    level = strong + 0.001 * rng.standard_normal(200)  # indistinguishable from strong
    weak = 0.5 + 0.01 * rng.standard_normal(200)
    assert significance_clusters([strong, level, weak]) == [1, 1, 2]
    assert significance_clusters([strong]) == [1]
