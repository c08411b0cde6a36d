"""The warning a reader gets about a document whose alignment cannot be trusted.

Judged from the stored links (their confidences and flags, `confidence.unreliable`), so a
stored run warns in `show`, `compare` and the report as it did in `run`, without aligning
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from evalkit.align.confidence import PROBABILITY_METHODS, expected_wrong_share, unreliable


class StoredLink(Protocol):
    confidence: float


class JudgedAlignment(Protocol):
    """What the judgement reads of an alignment: a fresh `DocumentAlignment` or a stored
    `results.AlignmentInfo`."""

    method: str

    @property
    def links(self) -> Sequence[StoredLink]: ...


class StoredAlignment(JudgedAlignment, Protocol):
    """A stored document's alignment (`results.AlignmentInfo`)."""

    doc_id: str
    low_confidence_links: int


def unreliable_alignment_warning(
    doc_id: str, method: str, confidences: Sequence[float], flagged: int
) -> str:
    """One line: how much of the alignment is doubtful, and what to do."""
    links = len(confidences)
    if method in PROBABILITY_METHODS:
        share = expected_wrong_share(confidences)
        doubt = f"about {share:.0%} of its {links} links likely wrong, {flagged} flagged"
    else:
        doubt = f"{flagged} of {links} links flagged ({flagged / links:.0%})"
    return (
        f"{doc_id}: alignment unreliable, {doubt}: its reference-based scores may compare "
        "outputs with the wrong reference text; check the links with `evalkit align`, give "
        "a reference aligned line by line, or leave doubtful links out with --min-confidence"
    )


def alignment_warning(doc_id: str, alignment: JudgedAlignment, flagged: int) -> str | None:
    """The warning for one document, or None when its alignment looks sound."""
    confidences = [link.confidence for link in alignment.links]
    if not unreliable(alignment.method, confidences, flagged):
        return None
    return unreliable_alignment_warning(doc_id, alignment.method, confidences, flagged)


def alignment_warnings(alignments: Sequence[StoredAlignment]) -> list[str]:
    """A warning per stored document whose alignment looks unreliable."""
    found = (alignment_warning(a.doc_id, a, a.low_confidence_links) for a in alignments)
    return [line for line in found if line is not None]
