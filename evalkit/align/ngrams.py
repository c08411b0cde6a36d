"""How much two spans of text in one language share: character n-grams, tf-idf weighted.

The translation aligner (`translation.py`) compares a pivot translation with the
reference, both in the reference's language. Character n-grams, as chrF counts them,
match names and numbers however a small model spells them ("Hurairah", "Huraira"), and
inflected words by their stems. Each n-gram is weighted by how few of the document's units
hold it, so the phrases every unit repeats ("narrated that", "the Messenger of Allah")
count little and the names and content words that tell units apart count much. Cosine,
not an F-score of counts, because it stays high when one side holds the other plus as much
again (a pivot with the chain of narrators the reference left out): a half kept scores
about 0.7 of a whole kept.

What a link earns is its cosine minus the cosine the same spans have by chance: the mean
over the other side's units with the best one left out (its likely counterpart). A
generic span close to everything earns no more than a specific one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from evalkit.align.costs import LengthCost

#: character n-gram lengths counted: chrF's middle range (shorter ones match anything,
#: longer ones miss respelled names)
NGRAM_SIZES = (3, 4, 5)
#: widest span on either side (the search merges two units at most)
MAX_SPAN = 2
#: the least noise assumed (a document of one or two units shows none): a cosine step of
#: 0.02 is a word or two of a paragraph
NOISE_FLOOR = 0.02
_NOT_WORD = re.compile(r"[\W_]+")


def ngrams(text: str) -> dict[str, int]:
    """Counts of the character n-grams of a text, lowercased, punctuation as one space."""
    clean = f" {_NOT_WORD.sub(' ', text.lower()).strip()} "
    counts: dict[str, int] = {}
    for n in NGRAM_SIZES:
        for k in range(len(clean) - n + 1):
            gram = clean[k : k + n]
            counts[gram] = counts.get(gram, 0) + 1
    return counts


def _spans(count: int) -> list[tuple[int, int]]:
    return [(a, a + w) for w in range(1, MAX_SPAN + 1) for a in range(count - w + 1)]


class NgramSimilarity:
    """Gains of linking spans of pivot units with spans of reference units ([i0, i1) ×
    [j0, j1), 0-based, up to `MAX_SPAN` units a side)."""

    NAME = "tfidf-cosine(char3-5)"

    def __init__(
        self, pivot: Sequence[str], ref: Sequence[str], length_weight: float = 0.0
    ) -> None:
        units = [ngrams(t) for t in [*pivot, *ref]]
        vocabulary: dict[str, int] = {}
        for counts in units:
            for gram in counts:
                vocabulary.setdefault(gram, len(vocabulary))
        matrix = np.zeros((len(units), max(1, len(vocabulary))))
        for row, counts in enumerate(units):
            for gram, count in counts.items():
                matrix[row, vocabulary[gram]] = count
        # smoothed idf over the document's units of both sides
        df = (matrix > 0).sum(axis=0)
        matrix *= np.log((len(units) + 1) / (df + 1)) + 1.0
        n_pivot = len(pivot)
        self._src_spans = _spans(n_pivot)
        self._ref_spans = _spans(len(ref))
        src = _span_vectors(matrix[:n_pivot], self._src_spans)
        refs = _span_vectors(matrix[n_pivot:], self._ref_spans)
        self._cosine = src @ refs.T
        self._src_index = {span: k for k, span in enumerate(self._src_spans)}
        self._ref_index = {span: k for k, span in enumerate(self._ref_spans)}
        singles_src = [self._src_index[(i, i + 1)] for i in range(n_pivot)]
        singles_ref = [self._ref_index[(j, j + 1)] for j in range(len(ref))]
        self._src_chance = _chance(self._cosine[:, singles_ref])
        self._ref_chance = _chance(self._cosine[singles_src, :].T)
        self.noise = _noise(self._cosine[np.ix_(singles_src, singles_ref)])
        self.length_weight = length_weight
        self._length = (
            LengthCost([len(t) for t in pivot], [len(t) for t in ref]) if length_weight else None
        )

    def cosine(self, i0: int, i1: int, j0: int, j1: int) -> float:
        return float(self._cosine[self._src_index[(i0, i1)], self._ref_index[(j0, j1)]])

    def gain(self, i0: int, i1: int, j0: int, j1: int) -> float:
        """What linking the two spans earns: 0 for a unit left out; the cosine over its
        chance level otherwise (negative: no closer than anything else)."""
        if i0 == i1 or j0 == j1:
            return 0.0
        s, r = self._src_index[(i0, i1)], self._ref_index[(j0, j1)]
        chance = (self._src_chance[s] + self._ref_chance[r]) / 2
        earned = float(self._cosine[s, r] - chance)
        if self._length is not None:
            earned -= self.length_weight * self._length(i0, i1, j0, j1)
        return earned


def _span_vectors(units: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Unit-length vectors of each span (its units' n-gram weights added)."""
    if not spans:
        return np.zeros((0, units.shape[1]))
    vectors = np.stack([units[a:b].sum(axis=0) for a, b in spans])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _noise(cosines: np.ndarray) -> float:
    """How much a unit's cosines to the units it does not translate spread: the standard
    deviation of every 1:1 cosine but each row's and column's best. A gain difference of a
    few of these is no accident of which words two texts happen to share."""
    if cosines.shape[0] < 2 or cosines.shape[1] < 2:
        return NOISE_FLOOR
    chance = np.ones(cosines.shape, dtype=bool)
    chance[np.arange(cosines.shape[0]), cosines.argmax(axis=1)] = False
    chance[cosines.argmax(axis=0), np.arange(cosines.shape[1])] = False
    values = cosines[chance]
    return max(float(values.std()) if values.size > 1 else NOISE_FLOOR, NOISE_FLOOR)


def _chance(cosines: np.ndarray) -> np.ndarray:
    """Per row: the mean cosine to the other side's units, the best one left out (0 with
    fewer than two units, where nothing shows what chance is)."""
    if cosines.shape[1] < 2:
        return np.zeros(cosines.shape[0])
    total = cosines.sum(axis=1) - cosines.max(axis=1)
    return total / (cosines.shape[1] - 1)
