"""Every constant of the embedding aligner chosen leave-one-corpus-out.

The cost's constants (`AlignParams`: the price of leaving a unit out and its share for a
unit nothing claims, the price of a merge no better than its part, the weight of names
and numbers) are searched over `GRID`; the confidence model's coefficients and
its flag threshold are fitted by logistic regression. For each corpus, both are chosen on
the *other* corpora only, and that corpus's figures come from them: a figure never comes
from constants that saw its corpus. The constants evalkit ships are the same choice made
on every corpus; the bench prints them beside the ones in the code, so a stale constant
shows.

Corpora marked as a stretch (reordering, which no monotonic search can reach) are
reported but never fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from evalkit.align.confidence import RIGHT_FLAG_SHARE, LinkEvidence
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
#: L2 penalty of the logistic fit: keeps the weights finite when a fold separates cleanly
RIDGE = 0.01
#: the share of right links the flag threshold may flag on the corpora it is fitted on:
#: the goal's own figure (at most 0.2 of right links flagged), which is also what the
#: aligner's judgement of a whole document assumes of a sound one
RIGHT_FLAG_BUDGET = RIGHT_FLAG_SHARE


@dataclass
class LinkRecord:
    """One proposed link: what the search saw, and whether the truth has it."""

    evidence: LinkEvidence
    correct: bool


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
    x = np.array([[1.0, *r.evidence.vector()] for r in records])
    y = np.array([1.0 if r.correct else 0.0 for r in records])
    return x, y


def fit_logistic(records: Sequence[LinkRecord]) -> tuple[float, ...]:
    """Coefficients (intercept first) maximising the likelihood of right/wrong, ridge-
    penalised (not the intercept)."""
    x, y = _vectors(records)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-z))
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        grad = x.T @ (p - y)
        penalty = w.copy()
        penalty[0] = 0.0
        return nll + RIDGE * float(penalty @ penalty), grad + 2 * RIDGE * penalty

    # converged far past the 3 decimals kept: the problem is convex, so the rounded
    # optimum is the same from run to run (a loose stop left the last digit to chance)
    found = minimize(
        loss,
        np.zeros(x.shape[1]),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 20_000},
    )
    return tuple(round(float(v), 3) for v in found.x)


def probabilities(records: Sequence[LinkRecord], coefficients: Sequence[float]) -> np.ndarray:
    x, _ = _vectors(records)
    return 1.0 / (1.0 + np.exp(-(x @ np.asarray(coefficients))))


def flag_shares(flagged: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """(share of wrong links flagged, share of right links flagged)."""
    wrong, right = ~correct, correct
    caught = float(flagged[wrong].mean()) if wrong.any() else 1.0
    false = float(flagged[right].mean()) if right.any() else 0.0
    return caught, false


def choose_threshold(records: Sequence[LinkRecord], coefficients: Sequence[float]) -> float:
    """The flag threshold that flags the most wrong links while flagging at most
    `RIGHT_FLAG_BUDGET` of the right ones, from the probabilities seen; 0.5 when all are
    right (nothing to learn a threshold from)."""
    chance = probabilities(records, coefficients)
    correct = np.array([r.correct for r in records])
    if correct.all() or not correct.any():
        return 0.5
    best, best_caught = 0.0, -1.0
    for threshold in np.unique(np.round(chance, 4)):
        caught, false = flag_shares(chance < threshold + 1e-9, correct)
        if false <= RIGHT_FLAG_BUDGET and caught > best_caught:
            best, best_caught = float(threshold) + 0.00005, caught
    return round(best, 4)


@dataclass
class Fold:
    """The constants chosen without one corpus, and that corpus's figures under them."""

    corpus: str
    params: AlignParams
    coefficients: tuple[float, ...]
    threshold: float
    counts: Counts
    #: the held-out corpus's links with their probability under this fold's model
    chances: list[float]
    correct: list[bool]


def fit(
    counts: dict[AlignParams, dict[str, Counts]],
    links: dict[AlignParams, dict[str, list[LinkRecord]]],
    fit_on: Sequence[str],
) -> tuple[AlignParams, tuple[float, ...], float]:
    """Constants chosen on `fit_on`: cost constants by mean F1, then the confidence model
    and its threshold on those corpora's links under them."""
    f1 = {p: {c: counts[p][c].f1 for c in fit_on} for p in counts}
    params = choose_params(f1, fit_on)
    records = [r for c in fit_on for r in links[params][c]]
    coefficients = fit_logistic(records)
    return params, coefficients, choose_threshold(records, coefficients)


def leave_one_out(
    counts: dict[AlignParams, dict[str, Counts]],
    links: dict[AlignParams, dict[str, list[LinkRecord]]],
    corpora: Sequence[str],
    stretch: Sequence[str],
) -> list[Fold]:
    """One fold per corpus: fitted on every other corpus that is not a stretch."""
    folds = []
    for held in corpora:
        fit_on = [c for c in corpora if c != held and c not in stretch]
        params, coefficients, threshold = fit(counts, links, fit_on)
        records = links[params][held]
        folds.append(
            Fold(
                held,
                params,
                coefficients,
                threshold,
                counts[params][held],
                [float(v) for v in probabilities(records, coefficients)] if records else [],
                [r.correct for r in records],
            )
        )
    return folds
