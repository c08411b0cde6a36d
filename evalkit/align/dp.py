"""Monotonic n:m alignment of two sequences by dynamic programming.

The search is the one of Gale & Church (1993), vecalign and bertalign: every path through
the (source, reference) grid made of a fixed set of steps, e.g. 1:1, 2:1, 0:1, is a
candidate alignment, and the cheapest one wins. What makes a link cheap is the caller's
business (a `LinkCost`), so the same search serves lengths, embeddings or both.

Written here because the installable ones do not fit: NLTK's `gale_church` takes lengths
only, and bertalign loads LaBSE from the hub at run time and needs faiss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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
