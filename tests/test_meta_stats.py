"""The meta-evaluation statistics against hand-worked examples, scipy, and plain-loop
versions of their definitions (written here from the papers, independently of the code)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats

from evalkit.meta import stats

# --- independent versions of the definitions, for checking ----------------------------


def brute_acc23(human: np.ndarray, metric: np.ndarray, epsilon: float) -> float | None:
    """acc23 grouped by item, as "Ties Matter" defines it, with plain loops: per item, every
    pair of systems both scored; right when both tie (metric: |d| <= epsilon) or neither does
    and the signs agree; the mean over items of each item's share right."""
    per_item = []
    for item in range(human.shape[1]):
        right = total = 0
        for a, b in itertools.combinations(range(human.shape[0]), 2):
            h = (human[a, item], human[b, item])
            m = (metric[a, item], metric[b, item])
            if any(np.isnan(v) for v in (*h, *m)):
                continue
            dh, dm = h[0] - h[1], m[0] - m[1]
            metric_tie = abs(dm) <= epsilon
            total += 1
            both_tie = dh == 0 and metric_tie
            same_order = dh != 0 and not metric_tie and (dh > 0) == (dm > 0)
            right += both_tie or same_order
        if total:
            per_item.append(right / total)
    return sum(per_item) / len(per_item) if per_item else None


def brute_calibrated(human: np.ndarray, metric: np.ndarray) -> tuple[float, float] | None:
    """The best acc23 over the thresholds 0 and every metric difference; the smallest wins."""
    gaps = {0.0}
    for item in range(human.shape[1]):
        for a, b in itertools.combinations(range(human.shape[0]), 2):
            d = metric[a, item] - metric[b, item]
            if not np.isnan(d) and not np.isnan(human[a, item] - human[b, item]):
                gaps.add(abs(d))
    best = None
    for epsilon in sorted(gaps):
        value = brute_acc23(human, metric, epsilon)
        if value is None:
            return None
        if best is None or value > best[0] + 1e-12:
            best = (value, epsilon)
    return best


def exact_p(scores_i: np.ndarray, scores_j: np.ndarray) -> float:
    """Share of all 2**n sign flips of the per-item differences whose sum is at least the
    observed sum: the exact one-sided paired permutation test that i beats j."""
    d = np.asarray(scores_i, float) - np.asarray(scores_j, float)
    observed = d.sum()
    flips = list(itertools.product((1.0, -1.0), repeat=len(d)))
    return sum(np.dot(f, d) >= observed - 1e-9 for f in flips) / len(flips)


# --- system-level pairwise accuracy ----------------------------------------------------


def test_system_pairwise_accuracy_hand_worked():
    # pairs (0,1): human 3>2, metric .9>.1 agree; (0,2): 3>1, .9>.5 agree;
    # (1,2): 2>1 but .1<.5 disagree -> 2/3
    assert stats.system_pairwise_accuracy([3, 2, 1], [0.9, 0.1, 0.5]) == pytest.approx(2 / 3)


def test_system_pairwise_accuracy_ties():
    # (0,1): tied by both -> agree; (0,2): human 1<2, metric 5>1 -> disagree; (1,2) likewise
    assert stats.system_pairwise_accuracy([1, 1, 2], [5, 5, 1]) == pytest.approx(1 / 3)
    # a tie on one side only is a disagreement: (0,1) human tie, metric 2>1
    assert stats.system_pairwise_accuracy([1, 1], [2, 1]) == 0.0


def test_system_pairwise_accuracy_needs_two_systems():
    assert stats.system_pairwise_accuracy([1.0], [2.0]) is None


# --- permutation p-values and SPA -------------------------------------------------------


def test_permutation_p_values_exact_hand_worked():
    # A - B per item = [1, 1, -1], observed sum 1. The 8 sign flips give sums
    # 1, 3, -1, 1, -1, 1, -3, -1 (+++, ++-, +-+, +--, -++, -+-, --+, ---): four are >= 1
    p = stats.permutation_p_values([[2, 2, 0], [1, 1, 1]])
    assert p[0, 1] == pytest.approx(0.5)
    assert np.isnan(p[1, 0]) and np.isnan(p[0, 0])
    # A - B = [2, 2, 2]: only the unflipped mask reaches 6 -> 1/8
    assert stats.permutation_p_values([[3, 3, 3], [1, 1, 1]])[0, 1] == pytest.approx(1 / 8)


def test_spa_hand_worked():
    # humans: p(A>B) = 0.5, metric: p(A>B) = 1/8 (above) -> SPA = 1 - |0.5 - 0.125| = 0.625
    human = [[2, 2, 0], [1, 1, 1]]
    metric = [[3, 3, 3], [1, 1, 1]]
    assert stats.soft_pairwise_accuracy(human, metric) == pytest.approx(0.625)


def test_spa_is_one_for_the_human_scores_themselves_and_needs_two_systems():
    rng = np.random.default_rng(1)
    human = rng.normal(size=(4, 40))
    assert stats.soft_pairwise_accuracy(human, human) == 1.0
    assert stats.soft_pairwise_accuracy(human[:1], human[:1]) is None


def test_random_permutations_approach_the_exact_test():
    # 12 items: 4096 masks > 1000 permutations, so the masks are drawn at random
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(3, 12)) + np.array([[0.4], [0.0], [0.1]])
    drawn = stats.permutation_p_values(scores, permutations=1000, seed=3)
    again = stats.permutation_p_values(scores, permutations=1000, seed=3)
    assert np.array_equal(drawn, again, equal_nan=True)  # seeded
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert drawn[i, j] == pytest.approx(exact_p(scores[i], scores[j]), abs=0.05)
    # with as many permutations as masks, every mask is listed: the exact test
    exact = stats.permutation_p_values(scores, permutations=4096)
    assert exact[0, 1] == pytest.approx(exact_p(scores[0], scores[1]))


def test_spa_against_exact_p_values():
    rng = np.random.default_rng(9)
    human = rng.normal(size=(3, 8))
    metric = human + rng.normal(scale=1.0, size=(3, 8))
    expected = 1 - np.mean(
        [
            abs(exact_p(human[i], human[j]) - exact_p(metric[i], metric[j]))
            for i, j in ((0, 1), (0, 2), (1, 2))
        ]
    )
    assert stats.soft_pairwise_accuracy(human, metric) == pytest.approx(expected)


# --- acc23 with tie calibration ---------------------------------------------------------

# item 0: three systems, human [3, 2, 2], metric [.9, .5, .45]
#   pairs (0,1) dh 1 dm .4; (0,2) dh 1 dm .45; (1,2) dh 0 (human tie) dm .05
#   eps 0:   right, right, wrong (metric does not tie)   -> 2/3
#   eps .05: right, right, right                          -> 1
#   eps .4:  (0,1) tied by the metric only -> wrong       -> 2/3
# item 1: two systems, human [1, 2], metric [.3, .2]: dh -1, dm .1: wrong at every eps
# grouped by item: eps .05 -> (1 + 0) / 2 = 0.5 (pooled over pairs it would be 3/4)
HUMAN = np.array([[3, 1], [2, 2], [2, np.nan]], dtype=float)
METRIC = np.array([[0.9, 0.3], [0.5, 0.2], [0.45, np.nan]])


def test_acc23_hand_worked():
    result = stats.tie_calibrated_accuracy(HUMAN, METRIC)
    assert result is not None
    assert result.accuracy == pytest.approx(0.5)
    assert result.epsilon == pytest.approx(0.05)
    assert stats.pairwise_accuracy_at(HUMAN, METRIC, 0.0) == pytest.approx((2 / 3 + 0) / 2)
    assert stats.pairwise_accuracy_at(HUMAN, METRIC, 0.4) == pytest.approx((2 / 3 + 0) / 2)


def test_acc23_keeps_epsilon_zero_when_no_tie_helps():
    # humans never tie and the metric orders every pair alike: acc 1 at eps 0
    result = stats.tie_calibrated_accuracy(
        [[3, 1], [2, 0], [1, 5]], [[0.3, 0.1], [0.2, 0.0], [0.1, 0.9]]
    )
    assert result is not None
    assert (result.accuracy, result.epsilon) == (pytest.approx(1.0), 0.0)


def test_acc23_counts_exact_ties_of_both_as_right():
    # one item, human [1, 1], metric [0.5, 0.5]: both tie -> 1 at eps 0
    assert stats.tie_calibrated_accuracy([[1], [1]], [[0.5], [0.5]]) == stats.TieCalibrated(1, 0)


def test_acc23_without_pairs_is_none():
    assert stats.tie_calibrated_accuracy([[1, 2]], [[1, 2]]) is None  # one system
    assert stats.tie_calibrated_accuracy([[1, np.nan], [np.nan, 2]], [[1, 2], [3, 4]]) is None


@pytest.mark.parametrize("seed", range(8))
def test_acc23_matches_the_definition_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    human = rng.integers(0, 4, size=(4, 9)).astype(float)  # few levels: many human ties
    metric = np.round(human + rng.normal(scale=1.0, size=human.shape), 1)  # some metric ties
    human[rng.random(human.shape) < 0.15] = np.nan
    result = stats.tie_calibrated_accuracy(human, metric)
    expected = brute_calibrated(human, metric)
    assert result is not None and expected is not None
    assert result.accuracy == pytest.approx(expected[0])
    assert result.epsilon == pytest.approx(expected[1])
    for epsilon in (0.0, 0.3, 1.0):
        assert stats.pairwise_accuracy_at(human, metric, epsilon) == pytest.approx(
            brute_acc23(human, metric, epsilon)
        )


def test_acc23_item_weights_equal_repeating_items():
    rng = np.random.default_rng(2)
    human = rng.integers(0, 3, size=(3, 5)).astype(float)
    metric = human + rng.normal(scale=0.8, size=human.shape)
    weights = np.array([2, 0, 1, 3, 0])
    repeated = np.repeat(np.arange(5), weights)
    direct = stats.tie_calibrated_accuracy(human[:, repeated], metric[:, repeated])
    assert stats.ItemPairs(human, metric).calibrated(weights) == pytest.approx(direct)


# --- correlations -------------------------------------------------------------------------


def test_kendall_and_pearson_equal_scipy_with_ties():
    x = [1, 2, 2, 3, 3, 3, 4, np.nan]
    y = [0.1, 0.4, 0.2, 0.2, 0.5, 0.5, 0.9, 0.3]
    assert stats.kendall_tau_b(x, y) == pytest.approx(
        scipy.stats.kendalltau(x[:-1], y[:-1], variant="b").statistic
    )
    assert stats.pearson(x, y) == pytest.approx(scipy.stats.pearsonr(x[:-1], y[:-1]).statistic)


def test_kendall_tau_b_hand_worked():
    # x = [1, 2, 3], y = [1, 3, 2]: pairs (1,2) concordant, (1,3) concordant, (2,3)
    # discordant; no ties -> (2 - 1) / 3
    assert stats.kendall_tau_b([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    # x = [1, 1, 2], y = [1, 2, 3]: C = 2, D = 0, one pair tied in x only:
    # tau-b = 2 / sqrt((3 - 1) * 3)
    assert stats.kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / np.sqrt(6))


def test_correlations_undefined_are_none():
    assert stats.kendall_tau_b([1, 1, 1], [1, 2, 3]) is None
    assert stats.pearson([1, 2, 3], [5, 5, 5]) is None
    assert stats.pearson([1], [2]) is None


# --- bootstrap --------------------------------------------------------------------------


def test_percentile_ci_hand_worked():
    # numpy's linear percentile of 1..100: 2.5% at index 2.475 -> 3.475, 97.5% -> 97.525
    assert stats.percentile_ci(list(range(1, 101))) == pytest.approx((3.475, 97.525))
    # undefined resamples are left out; mostly undefined: no interval
    assert stats.percentile_ci([1.0, None, 3.0]) == pytest.approx((1.05, 2.95))
    assert stats.percentile_ci([1.0, None, None]) is None


def test_bootstrap_indices_are_seeded():
    first = stats.bootstrap_indices(7, 20, seed=4)
    assert first.shape == (20, 7) and first.min() >= 0 and first.max() < 7
    assert np.array_equal(first, stats.bootstrap_indices(7, 20, seed=4))
    assert not np.array_equal(first, stats.bootstrap_indices(7, 20, seed=5))


def test_spa_does_not_reward_a_metric_that_ties_every_system_whatever_their_order():
    import numpy as np

    from evalkit.meta.stats import soft_pairwise_accuracy

    rng = np.random.default_rng(0)
    human = np.stack([rng.normal(level, 1.0, 30) for level in (0.0, 3.0, 6.0)])
    constant = np.ones_like(human)
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        assert soft_pairwise_accuracy(human[order], constant[order]) < 0.05
        assert soft_pairwise_accuracy(human[order], human[order] + 0.01) > 0.95
