"""How likely each link is to be right: a logistic model over what the search saw.

A link's margin (how much more the cheapest alignment without it costs, `dp.link_margins`)
says whether another split or merge was nearly as good. It does not say whether the link
is right: where the reference leaves half of every paragraph out, a whole document can be
shifted by one paragraph and every link still be the cheapest by far. What the margin
misses, the evidence itself shows: the two sides of a wrong link are no closer to each
other than to the rest of the document, and a document whose links are all weak is one
the search could not read. So the probability that a link is right is a logistic model of

- the margin, as 1 - exp(-margin / scale);
- the link's normalised embedding distance (1.0: no closer than to anything else), or,
  for a unit left unlinked, the distance to its nearest unit on the other side (a unit
  with a close counterpart should not be left out);
- the link's Gale–Church length cost, capped;
- whether the unit is left unlinked;
- the median distance of the document's links (a document nothing in it matches).

`COEFFICIENTS` and `FLAG_BELOW` are fitted by `make bench-align` on all its corpora; the
figures it reports for a corpus come from the same fit made without that corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: the margin (link-cost units) at which the margin feature is 1 - 1/e
MARGIN_SCALE = 0.1
#: the length cost above which a length feature saturates
LENGTH_FEATURE_CAP = 10.0
#: intercept, then one weight per feature of `LinkEvidence.vector`, fitted by
#: `bench/align.py --fit` on every corpus of `make bench-align`
COEFFICIENTS: tuple[float, ...] = (3.0, 3.0, -4.0, -0.5, -1.0, -2.0)
#: a link whose probability of being right is below this is flagged for a human to check;
#: fitted with the coefficients (the threshold that best separates wrong links from right
#: ones: most wrong links flagged, fewest right ones)
FLAG_BELOW = 0.5
#: a document with at least this share of its links flagged gets a warning: its
#: reference-based scores may compare outputs with the wrong reference text. Set, not
#: fitted: a third of the links is more than any sound alignment of the bench flags.
UNRELIABLE_SHARE = 1 / 3


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

    def vector(self) -> list[float]:
        margin = 1.0 - math.exp(-self.margin / MARGIN_SCALE) if math.isfinite(self.margin) else 1.0
        return [
            margin,
            min(self.distance, 2.0),
            min(self.length, LENGTH_FEATURE_CAP) / LENGTH_FEATURE_CAP,
            1.0 if self.unlinked else 0.0,
            min(self.document_distance, 2.0),
        ]


def probability(evidence: LinkEvidence, coefficients: Sequence[float] = COEFFICIENTS) -> float:
    """P(link right) under the logistic model."""
    x = evidence.vector()
    z = coefficients[0] + sum(w * v for w, v in zip(coefficients[1:], x, strict=True))
    return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0


def with_document_distance(evidence: Sequence[LinkEvidence]) -> list[LinkEvidence]:
    """The same evidence with the document's median link distance filled in."""
    linked = sorted(e.distance for e in evidence if not e.unlinked)
    median = linked[len(linked) // 2] if linked else 1.0
    return [LinkEvidence(e.margin, e.distance, e.length, e.unlinked, median) for e in evidence]


def unreliable(flagged: int, links: int) -> bool:
    """Whether a document's alignment is too doubtful to score without a look."""
    return links > 0 and flagged / links >= UNRELIABLE_SHARE
