"""The link-confidence trees: evaluated as scikit-learn fitted them, shipped in step with
the features, and held to each feature's known direction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from evalkit.align.confidence import FEATURES, LinkEvidence, probability
from evalkit.align.confidence_trees import (
    SCHEMA_VERSION,
    TREES_FILE,
    Trees,
    read_model,
    shipped_model,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


def test_a_walk_goes_left_at_or_below_the_threshold_and_adds_each_trees_leaf():
    # one stump on feature 1 at 0.5 (left leaf -1, right leaf +2), one leaf alone (+0.5)
    stump = ((1, 0.5, 1, 2, 0.0, False), (0, 0.0, 0, 0, -1.0, True), (0, 0.0, 0, 0, 2.0, True))
    trees = Trees(0.25, (stump, ((0, 0.0, 0, 0, 0.5, True),)))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert trees.probability([9.0, 0.5]) == pytest.approx(sigmoid(0.25 - 1.0 + 0.5))
    assert trees.probability([9.0, 0.51]) == pytest.approx(sigmoid(0.25 + 2.0 + 0.5))


def test_exported_trees_give_scikit_learns_probabilities():
    sklearn = pytest.importorskip("sklearn.ensemble")
    from align_fit import trees_from_sklearn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] - 0.5 * x[:, 2] + rng.normal(scale=0.5, size=400)) > 0
    model = sklearn.HistGradientBoostingClassifier(max_depth=3, max_iter=30, random_state=0)
    model.fit(x, y)
    trees = trees_from_sklearn(model)
    probe = rng.normal(size=(200, 5))
    ours = np.array([trees.probability(row) for row in probe])
    np.testing.assert_allclose(ours, model.predict_proba(probe)[:, 1], atol=1e-12)


def test_the_shipped_file_names_the_features_the_evidence_gives(tmp_path):
    data = json.loads(TREES_FILE.read_text(encoding="utf-8"))
    assert data["features"] == [name for name, _ in FEATURES]
    assert data["monotonic"] == [direction for _, direction in FEATURES]
    assert data["fingerprint"] == shipped_model().trees.fingerprint()
    assert len(LinkEvidence(0.1, 0.5, 1.0, unlinked=False).vector()) == len(FEATURES)
    stale = tmp_path / "trees.json"
    stale.write_text(json.dumps({**data, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(ValueError, match="schema"):
        read_model(stale)


@pytest.mark.parametrize("feature", [k for k, (_, d) in enumerate(FEATURES) if d])
def test_each_feature_pushes_the_shipped_probability_only_its_own_way(feature):
    """Raising a feature with a known direction never moves the probability against it,
    wherever the other features stand."""
    trees, direction = shipped_model().trees, FEATURES[feature][1]
    rng = np.random.default_rng(feature)
    for _ in range(200):
        row = list(rng.uniform(-1.0, 2.0, size=len(FEATURES)))
        low, high = sorted(rng.uniform(-1.0, 2.0, size=2))
        below = trees.probability([*row[:feature], low, *row[feature + 1 :]])
        above = trees.probability([*row[:feature], high, *row[feature + 1 :]])
        assert direction * (above - below) >= -1e-12


def test_a_link_whose_sides_match_is_likelier_right_than_one_whose_sides_do_not():
    close = LinkEvidence(0.5, 0.2, 0.5, unlinked=False, rival=0.5, mutual=True)
    apart = LinkEvidence(0.5, 0.9, 0.5, unlinked=False, rival=-0.2, mutual=False)
    assert probability(close) > probability(apart)
