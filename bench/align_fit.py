"""Every constant of the embedding aligner chosen leave-one-corpus-out.

The cost's constants (`AlignParams`: the price of leaving a unit out and its share for a
unit nothing claims, the price of a merge no better than its part, the weight of names
and numbers) are searched over `GRID`; the confidence model is boosted trees
(scikit-learn's HistGradientBoosting, each feature held to its known direction), and its
flag threshold is the probability below which `FLAG_SHARE` of the right links fall, as
seen on predictions for corpora the trees did not see (an inner leave-one-corpus-out):
the trees' predictions on their own training links are too sure to set it. For each
corpus, all of it is chosen on the *other* corpora only, and that corpus's figures come
from them: a figure never comes from constants that saw its corpus. The constants evalkit
ships are the same choice made on every corpus; the bench prints them beside the ones in
the code, so a stale constant shows.

Corpora marked as a stretch (reordering, which no monotonic search can reach) are
reported but never fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalkit.align.confidence import FEATURES, LinkEvidence, unreliable
from evalkit.align.confidence_trees import TreeModel, Trees
from evalkit.align.costs import AlignParams

#: candidate cost constants: the price per unit left out, its share for a unit nobody
#: claims as mutual nearest (1: priced alike), the price of a merge no better than its best
#: part, and how much shared names and numbers take off a link's distance (0: none)
GRID: tuple[AlignParams, ...] = tuple(
    AlignParams(skip_cost=skip, lonely_skip=lonely, merge_gain_weight=gain, anchor_weight=anchor)
    for skip in (1.5, 1.75, 2.0)
    for lonely in (0.8, 1.0)
    for gain in (2.0, 5.0)
    for anchor in (0.0, 0.5)
)
#: the trees' settings: shallow and slow-learning, as the links are few (about a thousand)
TREE_SETTINGS = {
    "max_depth": 3,
    "learning_rate": 0.05,
    "max_iter": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
#: weights of a link of a document aligned with another's reference, against 1 for a
#: link of a true pair; each fit picks one on its inner folds (`TreeFits`)
UNRELATED_WEIGHTS = (1.0, 3.0, 9.0)
#: the share of right links the threshold flags on predictions for unseen corpora: a little
#: under the goal's ceiling (`RIGHT_FLAG_SHARE`, 0.2), so that held out it stays under
FLAG_SHARE = 0.18


@dataclass
class LinkRecord:
    """One proposed link: what the search saw, and whether the truth has it."""

    evidence: LinkEvidence
    correct: bool
    #: the document the link belongs to (the bench judges whole documents too)
    document: str = ""


@dataclass
class Counts:
    """Exact-link counts of one corpus under one set of constants."""

    true_links: int = 0
    found_links: int = 0
    correct_links: int = 0
    seconds: float = 0.0

    @property
    def f1(self) -> float:
        p = self.correct_links / self.found_links if self.found_links else 0.0
        r = self.correct_links / self.true_links if self.true_links else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def choose_params(f1: dict[AlignParams, dict[str, float]], corpora: Sequence[str]) -> AlignParams:
    """The candidate with the best mean F1 over `corpora`; ties go to the earlier one."""
    return max(f1, key=lambda p: sum(f1[p][c] for c in corpora) / len(corpora))


def _vectors(records: Sequence[LinkRecord]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([r.evidence.vector() for r in records])
    y = np.array([r.correct for r in records], dtype=bool)
    return x, y


def fit_trees(
    records: Sequence[LinkRecord], unrelated: Sequence[LinkRecord] = (), weight: float = 1.0
) -> Trees:
    """Boosted trees of P(right), exported to evalkit's evaluator; `unrelated` links
    weigh `weight` each against 1 for the others."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        monotonic_cst=[direction for _, direction in FEATURES], **TREE_SETTINGS
    )
    x, y = _vectors([*records, *unrelated])
    weights = np.concatenate([np.ones(len(records)), np.full(len(unrelated), weight)])
    model.fit(x, y, sample_weight=weights)
    return trees_from_sklearn(model)


def trees_from_sklearn(model: object) -> Trees:
    """A fitted binary HistGradientBoostingClassifier over numeric features as `Trees`
    (its private predictor nodes: the only place the split values live)."""
    baseline = float(model._baseline_prediction.ravel()[0])  # type: ignore[attr-defined]
    trees = tuple(
        tuple(
            (
                int(n["feature_idx"]),
                float(n["num_threshold"]),
                int(n["left"]),
                int(n["right"]),
                float(n["value"]),
                bool(n["is_leaf"]),
            )
            for n in predictor.nodes
        )
        for (predictor,) in model._predictors  # type: ignore[attr-defined]
    )
    return Trees(baseline, trees)


def probabilities(records: Sequence[LinkRecord], trees: Trees) -> np.ndarray:
    return np.array([trees.probability(r.evidence.vector()) for r in records])


def flag_shares(flagged: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """(share of wrong links flagged, share of right links flagged)."""
    wrong, right = ~correct, correct
    caught = float(flagged[wrong].mean()) if wrong.any() else 1.0
    false = float(flagged[right].mean()) if right.any() else 0.0
    return caught, false


class TreeFits:
    """Trees fitted on sets of corpora, each fit made once (the inner folds of two outer
    folds share most of theirs).

    The trees learn from the links of every candidate of `GRID`, not only of the
    constants chosen: the confidence model judges links whatever constants found them,
    and the candidates' different mistakes teach it more kinds of wrong link than one set
    of constants makes. They learn too from documents aligned with another document's
    reference under the chosen constants (`align_corpora.unrelated_cases`: every link
    wrong), weighted by one of `UNRELATED_WEIGHTS`: too light and such a document passes
    for aligned, too heavy and the trees learn that a wrong link looks unrelated, which
    the wrong links of a true pair do not. Each fit picks the weight whose inner folds
    flag the most wrong links of true pairs. The threshold is set on the chosen
    constants' links, the ones it will flag."""

    def __init__(
        self,
        links: dict[AlignParams, dict[str, list[LinkRecord]]],
        unrelated: dict[AlignParams, dict[str, list[LinkRecord]]],
    ) -> None:
        self.links = links
        #: links of documents aligned with another document's reference (all wrong):
        #: learnt from, never counted in the flag figures, which are of true pairs
        self.unrelated = unrelated
        self._fits: dict[tuple[AlignParams, frozenset[str], float], Trees] = {}
        #: the unrelated documents' weight each fit chose, by (constants, corpora)
        self.weights: dict[tuple[AlignParams, frozenset[str]], float] = {}

    def trees(self, params: AlignParams, corpora: Sequence[str], weight: float) -> Trees:
        key = (params, frozenset(corpora), weight)
        if key not in self._fits:
            self._fits[key] = fit_trees(
                [r for found in self.links.values() for c in corpora for r in found[c]],
                [r for c in corpora for r in self.unrelated[params][c]],
                weight,
            )
        return self._fits[key]

    def _inner(
        self, params: AlignParams, corpora: Sequence[str], weight: float
    ) -> tuple[float, float]:
        """(threshold, share of wrong links it flags) from predictions for each corpus of
        `corpora` by trees fitted on the others."""
        chances, correct = [], []
        for inner in corpora:
            records = self.links[params][inner]
            others = [c for c in corpora if c != inner]
            chances.append(probabilities(records, self.trees(params, others, weight)))
            correct.append(np.array([r.correct for r in records], dtype=bool))
        chance, right = np.concatenate(chances), np.concatenate(correct)
        if not right.any():
            return 0.5, 0.0
        threshold = round(float(np.quantile(chance[right], FLAG_SHARE)), 4)
        caught, _ = flag_shares(chance < threshold, right)
        return threshold, caught

    def model(self, params: AlignParams, corpora: Sequence[str]) -> TreeModel:
        """Trees fitted on `corpora`, with the unrelated documents' weight and the
        threshold their inner folds chose, on the links `params` found."""
        inner = {w: self._inner(params, corpora, w) for w in UNRELATED_WEIGHTS}
        weight = max(UNRELATED_WEIGHTS, key=lambda w: inner[w][1])
        self.weights[(params, frozenset(corpora))] = weight
        return TreeModel(self.trees(params, corpora, weight), inner[weight][0])


@dataclass
class Fold:
    """The constants chosen without one corpus, and that corpus's figures under them."""

    corpus: str
    params: AlignParams
    model: TreeModel
    counts: Counts
    #: the held-out corpus's links with their probability under this fold's model
    chances: list[float]
    correct: list[bool]
    documents: list[str]
    #: the held-out corpus's documents aligned with another's reference, and how many of
    #: them this fold's model calls unreliable
    unrelated: int = 0
    unrelated_warned: int = 0
    #: the weight of the unrelated documents' links this fold's trees chose
    unrelated_weight: float = 1.0

    @property
    def flagged(self) -> np.ndarray:
        return np.array(self.chances) < self.model.flag_below


def fit(
    counts: dict[AlignParams, dict[str, Counts]], fits: TreeFits, fit_on: Sequence[str]
) -> tuple[AlignParams, TreeModel]:
    """Constants chosen on `fit_on`: cost constants by mean F1, then the confidence model
    and its threshold on those corpora's links under them."""
    f1 = {p: {c: counts[p][c].f1 for c in fit_on} for p in counts}
    params = choose_params(f1, fit_on)
    return params, fits.model(params, fit_on)


def judged_documents(
    chances: Sequence[float], correct: Sequence[bool], documents: Sequence[str], flag_below: float
) -> list[tuple[bool, float]]:
    """Per document of these links: whether evalkit calls it unreliable
    (`confidence.unreliable`, from the links' probabilities and flags), and the share of
    its links truly wrong."""
    by_document: dict[str, list[tuple[float, bool]]] = {}
    for chance, right, document in zip(chances, correct, documents, strict=True):
        by_document.setdefault(document, []).append((float(chance), bool(right)))
    judged = []
    for links in by_document.values():
        probability = [c for c, _ in links]
        flagged = sum(c < flag_below for c in probability)
        wrong_share = 1 - sum(r for _, r in links) / len(links)
        judged.append((bool(unreliable("embedding", probability, flagged)), wrong_share))
    return judged


def judge_unrelated(records: Sequence[LinkRecord], model: TreeModel) -> tuple[int, int]:
    """(documents, documents called unreliable) of links grouped by document."""
    judged = judged_documents(
        probabilities(records, model.trees) if records else [],
        [r.correct for r in records],
        [r.document for r in records],
        model.flag_below,
    )
    return len(judged), sum(warned for warned, _ in judged)


def leave_one_out(
    counts: dict[AlignParams, dict[str, Counts]],
    fits: TreeFits,
    corpora: Sequence[str],
    stretch: Sequence[str],
) -> list[Fold]:
    """One fold per corpus: fitted on every other corpus that is not a stretch."""
    folds = []
    for held in corpora:
        fit_on = [c for c in corpora if c != held and c not in stretch]
        params, model = fit(counts, fits, fit_on)
        records = fits.links[params][held]
        folds.append(
            Fold(
                held,
                params,
                model,
                counts[params][held],
                [float(v) for v in probabilities(records, model.trees)] if records else [],
                [r.correct for r in records],
                [r.document for r in records],
                *judge_unrelated(fits.unrelated[params][held], model),
                fits.weights[(params, frozenset(fit_on))],
            )
        )
    return folds
