"""How likely each link is to be right: a logistic model over what the search saw.

A link's margin (how much more the cheapest alignment without it costs, `dp.link_margins`)
says whether another split or merge was nearly as good. It does not say whether the link
is right: where the reference leaves half of every paragraph out, a whole document can be
shifted by one paragraph and every link still be the cheapest by far. What the margin
misses, the evidence itself shows: the two sides of a wrong link are no closer to each
other than to the rest of the document, and a document whose links are all weak is one
the search could not read. So the probability that a link is right is a logistic model of

- the margin, as 1 - exp(-margin / scale);
- the link's normalised embedding distance (1.0: no closer than to anything else);
- the link's Gale–Church length cost, capped;
- whether the unit is left unlinked, and then the distance to its nearest unit on the
  other side (a unit with a close counterpart should not be left out);
- the median distance of the document's links (a document nothing in it matches);
- the share of the link's names and numbers found on both sides (`anchors.py`);
- whether the link merges units, and whether it sits next to a unit left out;
- how much further the closest unit outside the link is than the link's own two sides
  (a link one of whose sides matches something else better is suspect), and the same of
  the links beside it (a search that lost its way makes wrong links in a row);
- whether each side's nearest unit lies inside the link (for a unit left out: whether it
  is the nearest of its own nearest unit, i.e. something claims it);
- how far from the diagonal of the document the link lies;
- for a merge or a split, how much further the whole is than its closest part (a
  paragraph the reference cut, swallowed by a neighbour's link).

`COEFFICIENTS` and `FLAG_BELOW` are fitted by `make bench-align` on all its corpora; the
figures it reports for a corpus come from the same fit made without that corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

#: the margin (link-cost units) at which the margin feature is 1 - 1/e
MARGIN_SCALE = 0.1
#: the length cost above which a length feature saturates
LENGTH_FEATURE_CAP = 10.0
#: intercept, then one weight per feature of `LinkEvidence.vector`, fitted by `make
#: bench-align` on all its corpora (it prints them beside these). The distance weight is
#: positive only because the rival feature holds the distance too (rival − distance).
COEFFICIENTS: tuple[float, ...] = (
    -6.137, 3.077, 1.073, -0.423, 0.282, -1.45, 5.689, 0.055, -0.943, -2.166, 7.047, -0.043,
    9.961, 5.232, -5.629,
)  # fmt: skip
#: a link whose probability of being right is below this is flagged for a human to check;
#: fitted with the coefficients: the threshold that flags the most wrong links while
#: flagging at most a fifth of the right ones. Most links are right, so it sits high.
FLAG_BELOW = 0.9607
#: the share of right links the flag threshold is fitted to flag at most (the goal's
#: figure; `make bench-align` fits `FLAG_BELOW` under it)
RIGHT_FLAG_SHARE = 0.2
#: a document gets a warning (its reference-based scores may compare outputs with the
#: wrong reference text) when so many of its links are flagged that a sound alignment,
#: whose links are flagged at `RIGHT_FLAG_SHARE` each, would flag as many less often than
#: this. Set, not fitted: the usual 5%. A fixed share cannot serve documents of 4 and of
#: 40 links alike: a third of 4 is one unlucky link, a third of 40 would be no accident.
UNRELIABLE_CHANCE = 0.05


@dataclass(frozen=True)
class LinkEvidence:
    """What the search saw of one link; the input of the confidence model."""

    margin: float
    #: normalised embedding distance of the link (for an unlinked unit: to its nearest
    #: unit on the other side)
    distance: float
    #: Gale–Church length cost of the link (0 for an unlinked unit)
    length: float
    unlinked: bool
    #: median `distance` of the document's links (set once the document is aligned)
    document_distance: float = 1.0
    #: share of the reference side's names and numbers found in the source side
    #: (`anchors.AnchorScore`; 0 when the document shares none)
    anchor: float = 0.0
    #: more than one unit on a side (a merge or a split)
    merged: bool = False
    #: next to a unit left out (set with the document's distance): where a search that
    #: lost its way skips to catch up
    beside_unlinked: bool = False
    #: how much further than the link's own distance the closest unit outside the link
    #: is (negative: something else matches one of its sides better)
    rival: float = 0.0
    #: each side's nearest unit on the other side lies inside the link (for a unit left
    #: out: it is the nearest of its own nearest unit, so something claims it)
    mutual: bool = False
    #: the weaker `rival` of the links on either side (set with the document's distance):
    #: a search that lost its way makes several wrong links in a row
    neighbour_rival: float = 0.0
    #: how far the link sits from the diagonal, as a share of the document: |i/n - j/m|
    offset: float = 0.0
    #: for a merge or a split: how much further the whole link is than its closest part
    #: alone (positive: a unit taken in that matches nothing of the other side)
    merge_excess: float = 0.0

    def vector(self) -> list[float]:
        """The model's features. A unit left out is judged by its nearest counterpart, in
        a weight of its own: far is wrong for a link and right for a unit left out."""
        margin = 1.0 - math.exp(-self.margin / MARGIN_SCALE) if math.isfinite(self.margin) else 1.0
        distance = min(self.distance, 2.0)
        return [
            margin,
            0.0 if self.unlinked else distance,
            min(self.length, LENGTH_FEATURE_CAP) / LENGTH_FEATURE_CAP,
            1.0 if self.unlinked else 0.0,
            distance if self.unlinked else 0.0,
            min(self.document_distance, 2.0),
            self.anchor,
            1.0 if self.merged else 0.0,
            1.0 if self.beside_unlinked else 0.0,
            max(-1.0, min(self.rival, 1.0)),
            1.0 if self.mutual else 0.0,
            max(-1.0, min(self.neighbour_rival, 1.0)),
            min(self.offset, 1.0),
            max(-1.0, min(self.merge_excess, 1.0)),
        ]


def probability(evidence: LinkEvidence, coefficients: Sequence[float] = COEFFICIENTS) -> float:
    """P(link right) under the logistic model."""
    x = evidence.vector()
    z = coefficients[0] + sum(w * v for w, v in zip(coefficients[1:], x, strict=True))
    return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0


def in_document(evidence: Sequence[LinkEvidence]) -> list[LinkEvidence]:
    """The same evidence, in document order, with what only the whole document shows
    filled in: its median link distance, and which links sit next to a unit left out."""
    linked = sorted(e.distance for e in evidence if not e.unlinked)
    median = linked[len(linked) // 2] if linked else 1.0
    out = []
    for k, e in enumerate(evidence):
        neighbours = evidence[max(0, k - 1) : k] + evidence[k + 1 : k + 2]
        beside = not e.unlinked and any(n.unlinked for n in neighbours)
        rivals = [n.rival for n in neighbours if not n.unlinked]
        out.append(
            replace(
                e,
                document_distance=median,
                beside_unlinked=beside,
                neighbour_rival=min(rivals, default=0.0),
            )
        )
    return out


def unreliable(flagged: int, links: int) -> bool:
    """Whether a document's alignment is too doubtful to score without a look: its
    flagged links are more than a sound alignment would flag but rarely (the binomial
    tail at `RIGHT_FLAG_SHARE` below `UNRELIABLE_CHANCE`), or all of them."""
    if links <= 0 or flagged <= 0:
        return False
    if flagged >= links:
        return True
    p = RIGHT_FLAG_SHARE
    chance = sum(
        math.comb(links, k) * p**k * (1 - p) ** (links - k) for k in range(flagged, links + 1)
    )
    return chance < UNRELIABLE_CHANCE
