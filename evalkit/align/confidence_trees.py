"""Boosted trees over `LinkEvidence.vector()`, evaluated without scikit-learn.

Why trees: the wrong links a linear model misses look right on each feature alone (a
clear margin, mutual nearest) and wrong only in combination (a merge beside a short
paragraph with a near rival). Held out by corpus in `make bench-align`, at the same share
of right links flagged, trees catch more wrong links than the logistic model they replace
(docs/alignment.md). The bench fits them with scikit-learn's HistGradientBoosting and
ships them as JSON (`data/confidence_trees.json`); evalkit only walks them, so scikit-learn
stays a bench dependency.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: the trees `make bench-align --write-confidence` fitted on all its corpora
TREES_FILE = Path(__file__).parent / "data" / "confidence_trees.json"
#: the file's schema; a reader refuses another
SCHEMA_VERSION = 1

#: one node: (feature, threshold, left child, right child, leaf value, is leaf); a value
#: at or below the threshold goes left, as in scikit-learn
Node = tuple[int, float, int, int, float, bool]


@dataclass(frozen=True)
class Trees:
    """P(right) = sigmoid(baseline + the leaf each tree sends the features to)."""

    baseline: float
    trees: tuple[tuple[Node, ...], ...]

    def probability(self, features: Sequence[float]) -> float:
        raw = self.baseline
        for nodes in self.trees:
            k = 0
            while not nodes[k][5]:
                feature, threshold, left, right, _, _ = nodes[k]
                k = left if features[feature] <= threshold else right
            raw += nodes[k][4]
        return 1.0 / (1.0 + math.exp(-raw)) if raw > -500 else 0.0

    def as_json(self) -> dict:
        return {"baseline": self.baseline, "trees": [[list(n) for n in t] for t in self.trees]}

    def fingerprint(self) -> str:
        """12 hex digits of the trees' content: the alignment signature names them."""
        blob = json.dumps(self.as_json(), sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True)
class TreeModel:
    """The trees and the threshold fitted with them: a link below it is flagged."""

    trees: Trees
    flag_below: float


def trees_from_json(data: dict) -> Trees:
    return Trees(
        float(data["baseline"]),
        tuple(
            tuple(
                (int(f), float(t), int(lo), int(hi), float(v), bool(leaf))
                for f, t, lo, hi, v, leaf in tree
            )
            for tree in data["trees"]
        ),
    )


def read_model(path: Path) -> TreeModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: confidence trees of schema {data.get('schema_version')!r}, "
            f"this evalkit reads {SCHEMA_VERSION}"
        )
    return TreeModel(trees_from_json(data), float(data["flag_below"]))


@cache
def shipped_model() -> TreeModel:
    return read_model(TREES_FILE)
