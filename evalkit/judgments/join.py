"""Which row of a stored run a published MQM judgment is about.

A WMT judgment names its segment by document and position in WMT's test set, and its
system by WMT's name; a run names rows by its own ids (`doc#s3`). They join by what both
have, the document and the source text, under this rule:

1. the judgment's system must be a system of the run (by label: name the run's systems as
   the TSV does, e.g. `--system Online-W=files:online-w.txt`), since a meta-evaluation
   compares a system's human score with its metric scores, which only the run has;
2. its document must be a document of the run (the TSV's `doc` equals a row's `doc_id`);
3. its source, normalised (see `normalise`), must equal the normalised source of a row of
   that document; when a document has the same source several times (a repeated "Thank
   you."), its n-th such segment in TSV order (`doc_id`) joins its n-th such row. A row
   that joins several source lines (evalkit's alignment merged them) matches no single
   TSV segment and is left out rather than guessed;
4. the translation judged (the TSV's target, normalised) must be the run's hypothesis of
   that system for that row (normalised): a judgment of another text is not a judgment of
   the run.

Whatever fails is not stored; it is listed with the first rule it fails.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.judgments.model import Judgment
from evalkit.judgments.wmt_mqm import MqmFile, MqmSegment, strip_markers
from evalkit.record import SegmentRow

_SPACE = re.compile(r"\s+")

NOT_A_SYSTEM = "system not in the run"
NOT_A_DOCUMENT = "document not in the run"
NO_SOURCE = "no row of the document has this source"
NO_ROW_LEFT = "the document has fewer rows with this source"
ROWS_DISAGREE = "its rows show different translations"
OTHER_TRANSLATION = "the translation differs from the run's"


def normalise(text: str) -> str:
    """What two copies of one segment share: `<v>` markers removed, Unicode NFC, runs of
    whitespace as one space, no space at the ends. Case and punctuation are kept: they are
    part of what was translated and judged."""
    plain, _ = strip_markers(text)
    return _SPACE.sub(" ", unicodedata.normalize("NFC", plain)).strip()


@dataclass(frozen=True)
class Unmatched:
    """A judgment of the file that joins no row of the run, and why."""

    system: str
    doc: str
    doc_id: int
    seg_id: str
    rater: str
    lines: list[int]
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "doc": self.doc,
            "doc_id": self.doc_id,
            "seg_id": self.seg_id,
            "rater": self.rater,
            "lines": self.lines,
            "reason": self.reason,
        }


@dataclass
class Joined:
    judgments: list[Judgment] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)


def join_mqm(
    mqm: MqmFile, run_id: str, rows: Sequence[SegmentRow], systems: Sequence[str]
) -> Joined:
    """The judgments of `mqm` that join rows of the run (see the module's rule), as evalkit
    judgments (protocol mqm, complete, origin `wmt-mqm:<file name>`), and the others."""
    row_of = _rows_by_position(mqm.segments, rows)
    documents = {row.doc_id for row in rows}
    wanted = Counter((row.doc_id, normalise(row.src)) for row in rows)
    joined = Joined()
    for segment in mqm.segments:
        row = row_of.get((segment.doc, segment.doc_id))
        reason = _why_not(segment, row, systems, documents, wanted)
        if reason is not None or row is None:
            joined.unmatched.append(_unmatched(segment, reason or NO_SOURCE))
            continue
        joined.judgments.append(
            Judgment(
                run_id=run_id,
                segment_id=row.id,
                system=segment.system,
                annotator=segment.rater,
                protocol="mqm",
                spans=segment.spans,
                target=segment.target,
                complete=True,
                origin=f"wmt-mqm:{mqm.path.name}",
            )
        )
    return joined


def _why_not(
    segment: MqmSegment,
    row: SegmentRow | None,
    systems: Sequence[str],
    documents: set[str],
    sources: Counter[tuple[str, str]],
) -> str | None:
    """The first rule of the module's docstring that the judgment fails, or None."""
    if segment.system not in systems:
        return NOT_A_SYSTEM
    if segment.doc not in documents:
        return NOT_A_DOCUMENT
    if row is None:
        return NO_ROW_LEFT if sources[(segment.doc, normalise(segment.source))] else NO_SOURCE
    if not segment.agree:
        return ROWS_DISAGREE
    if normalise(segment.target) != normalise(row.hyp.get(segment.system, "")):
        return OTHER_TRANSLATION
    return None


def _rows_by_position(
    segments: Sequence[MqmSegment], rows: Sequence[SegmentRow]
) -> dict[tuple[str, int], SegmentRow]:
    """(doc, doc_id) of the TSV -> the run's row with the same document and source: the
    n-th TSV segment with a given source in a document joins the n-th such row."""
    candidates: dict[tuple[str, str], list[SegmentRow]] = defaultdict(list)
    for row in rows:
        candidates[(row.doc_id, normalise(row.src))].append(row)
    sources: dict[tuple[str, int], str] = {}
    for segment in segments:
        sources.setdefault((segment.doc, segment.doc_id), segment.source)
    taken: Counter[tuple[str, str]] = Counter()
    found = {}
    for (doc, doc_id), source in sorted(sources.items()):
        key = (doc, normalise(source))
        nth = taken[key]
        taken[key] += 1
        if nth < len(candidates.get(key, ())):
            found[(doc, doc_id)] = candidates[key][nth]
    return found


def _unmatched(segment: MqmSegment, reason: str) -> Unmatched:
    return Unmatched(
        segment.system,
        segment.doc,
        segment.doc_id,
        segment.seg_id,
        segment.rater,
        segment.lines,
        reason,
    )
