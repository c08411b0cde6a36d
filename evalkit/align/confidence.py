"""How likely each link is to be right: boosted trees over what the search saw.

A link's margin (how much more the cheapest alignment without it costs, `dp.link_margins`)
says whether another split or merge was nearly as good. It does not say whether the link
is right: where the reference leaves half of every paragraph out, a whole document can be
shifted by one paragraph and every link still be the cheapest by far. What the margin
misses, the evidence itself shows: the two sides of a wrong link are no closer to each
other than to the rest of the document, and a document whose links are all weak is one
the search could not read. So the probability that a link is right is a model of

- the margin, as 1 - exp(-margin / scale);
- the link's normalised embedding distance (1.0: no closer than to anything else);
- the link's Gale–Church length cost, capped;
- whether the unit is left unlinked, and then the distance to its nearest unit on the
  other side (a unit with a close counterpart should not be left out);
- the median distance of the document's links (a document nothing in it matches), and
  how much further apart the link's sides are than that median;
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

The model is a set of boosted trees (`confidence_trees.py`), each feature constrained to
the direction it is known to push (a larger margin never makes a link less likely right).
The trees and `FLAG_BELOW` are fitted by `make bench-align` on all its corpora; the figures
it reports for a corpus come from the same fit made without that corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from evalkit.align.confidence_trees import TreeModel, shipped_model

#: the margin (link-cost units) at which the margin feature is 1 - 1/e
MARGIN_SCALE = 0.1
#: the length cost above which a length feature saturates
LENGTH_FEATURE_CAP = 10.0
#: the features of `LinkEvidence.vector`, in order, each with the direction it may push the
#: probability of being right (1: up, -1: down, 0: either; the fit holds the trees to it)
FEATURES: tuple[tuple[str, int], ...] = (
    ("margin", 1),
    ("distance", -1),
    ("length", -1),
    ("unlinked", 0),
    ("unlinked_distance", 0),
    ("document_distance", -1),
    ("anchor", 1),
    ("merged", 0),
    ("beside_unlinked", 0),
    ("rival", 1),
    ("mutual", 1),
    ("neighbour_rival", 1),
    ("offset", -1),
    ("merge_excess", -1),
    ("distance_above_document", -1),
)
#: a link whose probability of being right is below this is flagged for a human to check;
#: fitted with the trees (`data/confidence_trees.json`). Most links are right, so it sits high.
FLAG_BELOW = shipped_model().flag_below
#: the share of right links a sound alignment has flagged: the goal's ceiling, which the
#: aligner's judgement of a whole document assumes (`make bench-align` fits `FLAG_BELOW`
#: to flag a little less, so that held out it stays under)
RIGHT_FLAG_SHARE = 0.2
#: a document gets a warning (its reference-based scores may compare outputs with the
#: wrong reference text) when more than this share of its links is expected wrong: the
#: embedding method's confidences are probabilities of being right, so their mean says
#: how many links are right, where a count of flags says only how many are doubtful (a
#: document of many links each a little doubtful is flagged throughout and still right).
#: Set by reason, not fitted: a quarter of a document scored against the wrong text
#: leaves its reference-based scores meaningless. But 0.2 and 0.3 were looked at on the
#: bench's pairing before it was kept (0.2 paired 3 of 5 verse-cuts documents, 0.25 and 0.3
#: four), so the bench's pairing figures are not blind to it; `make bench-align` reports
#: how well the estimate finds such documents.
UNRELIABLE_WRONG_SHARE = 0.25
#: methods whose confidence is a margin, not a probability (lengths, a pivot translation):
#: a warning when so many links are flagged that a sound alignment, flagged at
#: `RIGHT_FLAG_SHARE` each, would flag as many less often than this. Set, not fitted: the
#: usual 5%. A fixed share cannot serve documents of 4 and of 40 links alike: a third of 4
#: is one unlucky link, a third of 40 would be no accident.
UNRELIABLE_CHANCE = 0.05
#: the methods whose link confidence is the model's probability of being right
PROBABILITY_METHODS = ("embedding",)


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
            # how much further apart than the document's typical link: the trees split one
            # feature at a time, and a distance means little without the document's level
            0.0 if self.unlinked else distance - min(self.document_distance, 2.0),
        ]


def probability(evidence: LinkEvidence, model: TreeModel | None = None) -> float:
    """P(link right) under the trees (the shipped ones unless `model` is given)."""
    return (model or shipped_model()).trees.probability(evidence.vector())


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


def unreliable(method: str, confidences: Sequence[float], flagged: int) -> bool:
    """Whether a document's alignment is too doubtful to score without a look. For the
    embedding method, whose confidences are probabilities: more than
    `UNRELIABLE_WRONG_SHARE` of its links expected wrong. For the others: more links
    flagged than a sound alignment would flag but rarely (`too_many_flagged`)."""
    if not confidences:
        return False
    if method in PROBABILITY_METHODS:
        return expected_wrong_share(confidences) > UNRELIABLE_WRONG_SHARE
    return too_many_flagged(flagged, len(confidences))


def expected_wrong_share(confidences: Sequence[float]) -> float:
    """The share of links expected wrong, each link's confidence being its probability of
    being right."""
    return 1.0 - sum(confidences) / len(confidences) if confidences else 0.0


def too_many_flagged(flagged: int, links: int) -> bool:
    """More links flagged than a sound alignment would flag but rarely (the binomial tail
    at `RIGHT_FLAG_SHARE` below `UNRELIABLE_CHANCE`), or all of them."""
    if links <= 0 or flagged <= 0:
        return False
    if flagged >= links:
        return True
    p = RIGHT_FLAG_SHARE
    chance = sum(
        math.comb(links, k) * p**k * (1 - p) ** (links - k) for k in range(flagged, links + 1)
    )
    return chance < UNRELIABLE_CHANCE
