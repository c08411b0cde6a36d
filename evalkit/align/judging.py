"""How sure the aligner is of each link: its confidence, and the flags a person checks.

Kept apart from the search over a document's paragraphs and sentences (`document.py`),
which finds the links, because judging them is a job of its own, with its own constants:
what the search saw of a link (`link_evidence`), a link's confidence from its margin (the
length method) or from the fitted model of `confidence.py` (the embedding method), and the
flags, which compare a link with the rest of its document and so are set once every link
of it is found (`judge_links`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from evalkit.align import confidence as link_model
from evalkit.align.anchors import AnchorScore
from evalkit.align.confidence import LinkEvidence
from evalkit.align.confidence_trees import TreeModel, shipped_model
from evalkit.align.costs import AlignParams, EmbeddingCost, LengthCost
from evalkit.align.dp import Link

#: a link is flagged for a human to check when its confidence is below this share of the
#: document's median link confidence. Relative, because confidence levels differ by
#: domain and encoder (news paragraphs vs short verses): what stands out is a link much
#: weaker than its neighbours. Unlinked units are always flagged.
LOW_CONFIDENCE_SHARE = 0.5
#: below this confidence a link is flagged whatever the median
LOW_CONFIDENCE_FLOOR = 0.01
#: the margin (in link-cost units) at which a link's confidence is 1 - 1/e (0.63), for
#: lengths, whose costs are -log probabilities. The embedding method's confidence is a
#: probability from the model of `confidence.py`.
MARGIN_SCALE = {"length": 1.0, "embedding": link_model.MARGIN_SCALE}


@dataclass(frozen=True)
class AlignedLink:
    """Units `src` translate units `ref` (1-based; one side empty for an unlinked unit)."""

    src: tuple[int, ...]
    ref: tuple[int, ...]
    cost: float
    #: 0..1: for embeddings, how much closer the two sides are than to anything else;
    #: for lengths, Gale–Church's probability of the length difference; 0 when unlinked
    confidence: float

    @property
    def shape(self) -> str:
        return f"{len(self.src)}:{len(self.ref)}"

    #: set by `flag_low_confidence`, which sees the whole document
    low_confidence: bool = False
    #: what the search saw of this link (embedding method): the confidence model's input
    evidence: LinkEvidence | None = field(default=None, compare=False, repr=False)


def judge_links(links: list[AlignedLink], model: TreeModel | None = None) -> list[AlignedLink]:
    """The same links with their confidence and flag set over the whole document: from
    the confidence model where the links carry evidence (embeddings), else from the
    margin against the document's median (`flag_low_confidence`)."""
    if not links or any(link.evidence is None for link in links):
        return flag_low_confidence(links)
    model = model or shipped_model()
    evidence = link_model.in_document([link.evidence for link in links])  # type: ignore[misc]
    judged = []
    for link, seen in zip(links, evidence, strict=True):
        chance = link_model.probability(seen, model)
        judged.append(
            replace(
                link,
                confidence=round(chance, 4),
                low_confidence=chance < model.flag_below,
                evidence=seen,
            )
        )
    return judged


def flag_low_confidence(links: list[AlignedLink]) -> list[AlignedLink]:
    """The same links, unlinked ones and those far below the document's median flagged."""
    linked = sorted(link.confidence for link in links if link.src and link.ref)
    median = linked[len(linked) // 2] if linked else 0.0
    return [
        replace(
            link,
            low_confidence=not (link.src and link.ref)
            or link.confidence < max(LOW_CONFIDENCE_SHARE * median, LOW_CONFIDENCE_FLOOR),
        )
        for link in links
    ]


def link_evidence(
    link: Link,
    margin: float,
    embedding: EmbeddingCost,
    length: LengthCost,
    anchors: AnchorScore | None,
    params: AlignParams,
    n_src: int,
    n_ref: int,
) -> LinkEvidence:
    """What the search saw of one link (0-based units)."""
    if link.src and link.ref:
        i0, i1, j0, j1 = link.src[0], link.src[-1] + 1, link.ref[0], link.ref[-1] + 1
        distance = embedding(i0, i1, j0, j1)
        # the closest unit outside the link, to either side of it
        rivals = [embedding(i0, i1, j, j + 1) for j in range(n_ref) if not j0 <= j < j1]
        rivals += [embedding(i, i + 1, j0, j1) for i in range(n_src) if not i0 <= i < i1]
        nearest_ref = min(range(n_ref), key=lambda j: embedding(i0, i1, j, j + 1))
        nearest_src = min(range(n_src), key=lambda i: embedding(i, i + 1, j0, j1))
        parts = [embedding(i, i + 1, j0, j1) for i in range(i0, i1)] if i1 - i0 > 1 else []
        parts += [embedding(i0, i1, j, j + 1) for j in range(j0, j1)] if j1 - j0 > 1 else []
        return LinkEvidence(
            margin,
            distance,
            length(i0, i1, j0, j1),
            unlinked=False,
            anchor=anchors(i0, i1, j0, j1) if anchors is not None else 0.0,
            merged=len(link.src) > 1 or len(link.ref) > 1,
            rival=min(rivals, default=2.0) - distance,
            mutual=j0 <= nearest_ref < j1 and i0 <= nearest_src < i1,
            offset=abs((i0 + i1) / 2 / n_src - (j0 + j1) / 2 / n_ref),
            merge_excess=distance - min(parts) if parts else 0.0,
        )
    # a unit left out: how close it is to its nearest unit on the other side
    if link.src:
        i = link.src[0]
        row = [embedding(i, i + 1, j, j + 1) for j in range(n_ref)]
        best = min(range(n_ref), key=row.__getitem__)
        claimed = i == min(range(n_src), key=lambda k: embedding(k, k + 1, best, best + 1))
    else:
        j = link.ref[0]
        row = [embedding(i, i + 1, j, j + 1) for i in range(n_src)]
        best = min(range(n_src), key=row.__getitem__)
        claimed = j == min(range(n_ref), key=lambda k: embedding(best, best + 1, k, k + 1))
    return LinkEvidence(margin, min(row, default=2.0), 0.0, unlinked=True, mutual=claimed)


def margin_confidence(margin: float, scale: float) -> float:
    """0 when another alignment is as cheap, towards 1 as the margin grows."""
    return 1.0 - math.exp(-margin / scale) if math.isfinite(margin) else 1.0
