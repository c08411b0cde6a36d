"""The warning a reader gets about a document whose alignment cannot be trusted.

Judged from the stored links (how many are flagged), so a stored run warns in `show`,
`compare` and the report as it did in `run`, without aligning again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from evalkit.align.confidence import unreliable


class StoredAlignment(Protocol):
    """What the warning reads of a document's alignment (`results.AlignmentInfo`)."""

    doc_id: str
    low_confidence_links: int

    @property
    def links(self) -> Sequence[object]: ...


def unreliable_alignment_warning(doc_id: str, flagged: int, links: int) -> str:
    """One line: the share of flagged links, and what to do."""
    return (
        f"{doc_id}: alignment unreliable, {flagged} of {links} links flagged "
        f"({flagged / links:.0%}): its reference-based scores may compare outputs with the "
        "wrong reference text; check the links with `evalkit align`, give a reference "
        "aligned line by line, or leave doubtful links out with --min-confidence"
    )


def alignment_warnings(alignments: Sequence[StoredAlignment]) -> list[str]:
    """A warning per document whose alignment looks unreliable."""
    return [
        unreliable_alignment_warning(a.doc_id, a.low_confidence_links, len(a.links))
        for a in alignments
        if a.links and unreliable(a.low_confidence_links, len(a.links))
    ]
