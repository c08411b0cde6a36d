"""Monotonic n:m alignment of two sequences by dynamic programming.

The search is the one of Gale & Church (1993), vecalign and bertalign: every path through
the (source, reference) grid made of a fixed set of steps, e.g. 1:1, 2:1, 0:1, is a
candidate alignment, and the cheapest one wins. What makes a link cheap is the caller's
business (a `LinkCost`), so the same search serves lengths, embeddings or both.

Written here because the installable ones do not fit: NLTK's `gale_church` takes lengths
only, and bertalign loads LaBSE from the hub at run time and needs faiss.

`link_margins` says how sure the search is of each link it chose: how much more the
cheapest alignment *without* that link costs. A thin margin means a different split or
merge was nearly as good; it is what the aligner's confidence is made from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

#: the link shapes considered: (source units, reference units)
DEFAULT_STEPS: tuple[tuple[int, int], ...] = ((1, 1), (1, 0), (0, 1), (1, 2), (2, 1), (2, 2))

#: cost of linking source units [i0, i1) with reference units [j0, j1)
LinkCost = Callable[[int, int, int, int], float]


@dataclass(frozen=True)
class Link:
    """Source units `src` translate reference units `ref` (0-based, consecutive, maybe empty)."""

    src: tuple[int, ...]
    ref: tuple[int, ...]
    cost: float

    @property
    def shape(self) -> str:
        return f"{len(self.src)}:{len(self.ref)}"


def align_sequences(
    n_src: int,
    n_ref: int,
    cost: LinkCost,
    steps: Sequence[tuple[int, int]] = DEFAULT_STEPS,
) -> list[Link]:
    """The cheapest monotonic alignment covering every unit of both sides exactly once.

    `steps` must include (1, 0) and (0, 1) (or otherwise let any grid corner be reached);
    O(n_src * n_ref * len(steps)) cost calls.
    """
    if any(a < 0 or b < 0 or a + b == 0 for a, b in steps):
        raise ValueError(f"invalid steps {steps}")
    best = [[math.inf] * (n_ref + 1) for _ in range(n_src + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (n_ref + 1) for _ in range(n_src + 1)]
    best[0][0] = 0.0
    for i in range(n_src + 1):
        for j in range(n_ref + 1):
            if i == 0 and j == 0:
                continue
            for a, b in steps:
                if a > i or b > j or best[i - a][j - b] == math.inf:
                    continue
                total = best[i - a][j - b] + cost(i - a, i, j - b, j)
                if total < best[i][j]:
                    best[i][j] = total
                    back[i][j] = (a, b)
    if best[n_src][n_ref] == math.inf:
        raise ValueError("no alignment reaches the end with these steps")
    links: list[Link] = []
    i, j = n_src, n_ref
    while i or j:
        step = back[i][j]
        assert step is not None
        a, b = step
        links.append(Link(tuple(range(i - a, i)), tuple(range(j - b, j)), best[i][j]))
        i, j = i - a, j - b
    links.reverse()
    # `cost` above is cumulative; store each link's own cost
    previous = 0.0
    own: list[Link] = []
    for link in links:
        own.append(Link(link.src, link.ref, link.cost - previous))
        previous = link.cost
    return own


def _cheapest_to_end(
    n_src: int, n_ref: int, cost: LinkCost, steps: Sequence[tuple[int, int]]
) -> list[list[float]]:
    """best[i][j]: the cost of the cheapest alignment of units i.. and j.. (to the end)."""
    best = [[math.inf] * (n_ref + 1) for _ in range(n_src + 1)]
    best[n_src][n_ref] = 0.0
    for i in range(n_src, -1, -1):
        for j in range(n_ref, -1, -1):
            for a, b in steps:
                if i + a <= n_src and j + b <= n_ref and best[i + a][j + b] < math.inf:
                    total = cost(i, i + a, j, j + b) + best[i + a][j + b]
                    best[i][j] = min(best[i][j], total)
    return best


def _cheapest_from_start(
    n_src: int, n_ref: int, cost: LinkCost, steps: Sequence[tuple[int, int]]
) -> list[list[float]]:
    """best[i][j]: the cost of the cheapest alignment of units ..i and ..j (from the start)."""
    best = [[math.inf] * (n_ref + 1) for _ in range(n_src + 1)]
    best[0][0] = 0.0
    for i in range(n_src + 1):
        for j in range(n_ref + 1):
            for a, b in steps:
                if a <= i and b <= j and best[i - a][j - b] < math.inf:
                    total = best[i - a][j - b] + cost(i - a, i, j - b, j)
                    best[i][j] = min(best[i][j], total)
    return best


def _spans_containing(
    unit: int, on_src: bool, n_src: int, n_ref: int, steps: Sequence[tuple[int, int]]
) -> Iterator[tuple[int, int, int, int]]:
    """Every link (i0, i1, j0, j1) of the grid that contains source (or reference) `unit`."""
    for a, b in steps:
        width = a if on_src else b
        for first in range(max(0, unit - width + 1), unit + 1 if width else 0):
            for other in range((n_ref - b if on_src else n_src - a) + 1):
                i0, j0 = (first, other) if on_src else (other, first)
                if i0 + a <= n_src and j0 + b <= n_ref:
                    yield i0, i0 + a, j0, j0 + b


def link_margins(
    n_src: int,
    n_ref: int,
    cost: LinkCost,
    links: Sequence[Link],
    steps: Sequence[tuple[int, int]] = DEFAULT_STEPS,
) -> list[float]:
    """For each link of the cheapest alignment `links`, the extra cost of the cheapest
    alignment that does not contain it (inf when there is none).

    Every alignment has exactly one link containing a given unit, so the cheapest one
    without link L is the cheapest through any other link containing L's first unit:
    min over those of (best to its start) + its cost + (best from its end). Two more
    passes over the grid; `cost` should be memoised by the caller.
    """
    before = _cheapest_from_start(n_src, n_ref, cost, steps)
    after = _cheapest_to_end(n_src, n_ref, cost, steps)
    margins = []
    i = j = 0
    for link in links:
        chosen = (i, i + len(link.src), j, j + len(link.ref))
        on_src = bool(link.src)
        others = (
            before[i0][j0] + cost(i0, i1, j0, j1) + after[i1][j1]
            for i0, i1, j0, j1 in _spans_containing(i if on_src else j, on_src, n_src, n_ref, steps)
            if (i0, i1, j0, j1) != chosen
        )
        margins.append(max(0.0, min(others, default=math.inf) - after[0][0]))
        i, j = chosen[1], chosen[3]
    return margins
