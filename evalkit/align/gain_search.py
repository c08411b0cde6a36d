"""Monotonic alignment that maximises a gain, with skips worth nothing (Bleualign's view).

`dp.py` minimises a cost in which leaving a unit out has a price of its own, a constant
the bench fits. Here a link earns what its two sides share beyond chance and a unit left
out earns nothing, so a unit is linked exactly when some link through it pays, and no
skip price needs fitting. The grid and the steps are the usual ones: 1:1, skips both
ways, and merges of two units on one side.

`link_margins` says how sure the search is of each chosen link: how much less the best
alignment that does not contain it gains. Every alignment has exactly one link through a
given unit, so that is the best over the other links through the link's first unit of
(best up to its start) + its gain + (best from its end).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

#: the link shapes considered: (source units, reference units)
STEPS: tuple[tuple[int, int], ...] = ((1, 1), (1, 0), (0, 1), (1, 2), (2, 1))

#: what linking source units [i0, i1) with reference units [j0, j1) earns; 0 for skips
Gain = Callable[[int, int, int, int], float]


@dataclass(frozen=True)
class GainLink:
    """Source units `src` translate reference units `ref` (0-based, maybe one side empty)."""

    src: tuple[int, ...]
    ref: tuple[int, ...]
    gain: float


def _forward(n_src: int, n_ref: int, gain: Gain) -> list[list[float]]:
    """best[i][j]: the most an alignment of units ..i and ..j can earn."""
    best = [[-math.inf] * (n_ref + 1) for _ in range(n_src + 1)]
    best[0][0] = 0.0
    for i in range(n_src + 1):
        for j in range(n_ref + 1):
            for a, b in STEPS:
                if a <= i and b <= j and best[i - a][j - b] > -math.inf:
                    total = best[i - a][j - b] + gain(i - a, i, j - b, j)
                    best[i][j] = max(best[i][j], total)
    return best


def _backward(n_src: int, n_ref: int, gain: Gain) -> list[list[float]]:
    """best[i][j]: the most an alignment of units i.. and j.. (to the end) can earn."""
    best = [[-math.inf] * (n_ref + 1) for _ in range(n_src + 1)]
    best[n_src][n_ref] = 0.0
    for i in range(n_src, -1, -1):
        for j in range(n_ref, -1, -1):
            for a, b in STEPS:
                if i + a <= n_src and j + b <= n_ref and best[i + a][j + b] > -math.inf:
                    total = gain(i, i + a, j, j + b) + best[i + a][j + b]
                    best[i][j] = max(best[i][j], total)
    return best


def best_alignment(n_src: int, n_ref: int, gain: Gain) -> list[GainLink]:
    """The alignment of most gain covering every unit of both sides exactly once.
    O(n_src * n_ref * 5) gain calls; `gain` should be cheap or memoised."""
    after = _backward(n_src, n_ref, gain)
    links: list[GainLink] = []
    i = j = 0
    while i < n_src or j < n_ref:
        # the step that keeps the best total; links before skips when equal, so a
        # unit is left out only when linking it earns less than leaving it
        chosen = max(
            (
                (gain(i, i + a, j, j + b) + after[i + a][j + b], bool(a and b), a, b)
                for a, b in STEPS
                if i + a <= n_src and j + b <= n_ref and after[i + a][j + b] > -math.inf
            ),
        )
        _, _, a, b = chosen
        links.append(
            GainLink(tuple(range(i, i + a)), tuple(range(j, j + b)), gain(i, i + a, j, j + b))
        )
        i, j = i + a, j + b
    return links


def _spans_containing(
    unit: int, on_src: bool, n_src: int, n_ref: int
) -> Iterator[tuple[int, int, int, int]]:
    """Every link (i0, i1, j0, j1) of the grid that contains source (or reference) `unit`."""
    for a, b in STEPS:
        width = a if on_src else b
        for first in range(max(0, unit - width + 1), unit + 1 if width else 0):
            for other in range((n_ref - b if on_src else n_src - a) + 1):
                i0, j0 = (first, other) if on_src else (other, first)
                if i0 + a <= n_src and j0 + b <= n_ref:
                    yield i0, i0 + a, j0, j0 + b


def link_margins(n_src: int, n_ref: int, gain: Gain, links: Sequence[GainLink]) -> list[float]:
    """For each link of the best alignment `links`, how much less the best alignment
    without it earns (inf when every alignment contains it)."""
    before = _forward(n_src, n_ref, gain)
    after = _backward(n_src, n_ref, gain)
    total = after[0][0]
    margins = []
    i = j = 0
    for link in links:
        chosen = (i, i + len(link.src), j, j + len(link.ref))
        on_src = bool(link.src)
        others = (
            before[i0][j0] + gain(i0, i1, j0, j1) + after[i1][j1]
            for i0, i1, j0, j1 in _spans_containing(i if on_src else j, on_src, n_src, n_ref)
            if (i0, i1, j0, j1) != chosen
        )
        margins.append(max(0.0, total - max(others, default=-math.inf)))
        i, j = chosen[1], chosen[3]
    return margins
