"""Which row of a stored run a published score is about, when the score names its segment
by document and position (WMT's JSONL human evaluation, mt-metrics-eval's score files).

The test-set readers number a document's segments 1, 2, ... in the same way, so a run of
the file the scores came from has the row `DOC#sP` (evalkit.record.segment_id) for the
P-th segment of document DOC. A score joins that row under this rule:

1. its system must be a system of the run, by label (`output_label(NAME)`: the label a run
   of the file gets with `NAME=data:NAME`, or with no --system at all);
2. its document must be a document of the run;
3. the run must have the row `DOC#sP`, and its source (normalised, see
   evalkit.judgments.join.normalise) must be the score's source: a run of another test
   set, or of the same documents aligned differently, is not the run that was judged;
4. where the score says which translation it judged, that must be the run's hypothesis of
   the system on the row (normalised).

Whatever fails is not stored; it is listed with the first rule it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalkit.judgments.join import (
    NOT_A_DOCUMENT,
    NOT_A_SYSTEM,
    OTHER_TRANSLATION,
    Unmatched,
    normalise,
)
from evalkit.record import SegmentRow, segment_id

NO_ROW = "the run has no row for this segment"
OTHER_SOURCE = "the run's row has another source"


@dataclass(frozen=True)
class Claim:
    """What a published score says it is about."""

    #: the system's label in the run
    system: str
    doc_id: str
    #: the segment's 1-based position in its document
    position: int
    source: str
    #: the translation judged, when the file says; None: not checked
    target: str | None
    annotator: str
    #: where the score is in its file, for the list of what joined nothing
    line: int
    seg_id: str


class RunRows:
    """A stored run's rows and systems, looked up by what a claim names."""

    def __init__(self, rows: Sequence[SegmentRow], systems: Sequence[str]) -> None:
        self.rows = {row.id: row for row in rows}
        self.documents = {row.doc_id for row in rows}
        self.systems = set(systems)

    def join(self, claim: Claim) -> SegmentRow | Unmatched:
        """The row the claim is about, or why it joins none (the module's rule)."""
        reason = self._why_not(claim)
        if reason is None:
            return self.rows[self.row_id(claim)]
        return Unmatched(
            claim.system,
            claim.doc_id,
            claim.position,
            claim.seg_id,
            claim.annotator,
            [claim.line],
            reason,
        )

    @staticmethod
    def row_id(claim: Claim) -> str:
        return segment_id(claim.doc_id, [claim.position], [])

    def _why_not(self, claim: Claim) -> str | None:
        if claim.system not in self.systems:
            return NOT_A_SYSTEM
        if claim.doc_id not in self.documents:
            return NOT_A_DOCUMENT
        row = self.rows.get(self.row_id(claim))
        if row is None:
            return NO_ROW
        if normalise(row.src) != normalise(claim.source):
            return OTHER_SOURCE
        if claim.target is not None and normalise(claim.target) != normalise(
            row.hyp.get(claim.system, "")
        ):
            return OTHER_TRANSLATION
        return None
