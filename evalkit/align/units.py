"""The align stage's result: the units a run scores, and the texts each compares.

A scoring unit is the smallest piece a score is about. For a document whose reference
follows the source line by line, a unit is one line pair. For a document whose reference
does not (edited, split or merged paragraphs), units are the links of a paragraph
alignment (2 source paragraphs ↔ 1 reference paragraph, say); without an aligner, the only
honest unit is the whole document. A document without reference gives one unit per
source segment, scored only by reference-free metrics. Lines with nothing to translate
(see evalkit/align/lines.py) are left out of units, except in line-by-line documents,
where the manifest vouches for every pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from evalkit.align.document import AlignUnit, DocumentAlignment
from evalkit.align.lines import SkippedLine, split_translatable
from evalkit.align.sentence_links import document_sentences
from evalkit.corpus.model import Document, TestSet


class DocumentAligner(Protocol):
    """What the align stage needs of an aligner: `Aligner` (embeddings, lengths) and
    `TranslationAligner` (through a pivot translation) both are one."""

    def signature(self) -> str: ...

    def align(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        unit: AlignUnit = "paragraph",
        src_lang: str = "ar",
        ref_lang: str = "en",
    ) -> DocumentAlignment: ...


SCORED_AS_SEGMENTS = "segments"
SCORED_AS_ALIGNED = "aligned"
SCORED_AS_DOCUMENT = "document"
SCORED_AS_NONE = "none"

LOW_CONFIDENCE_FLAG = "low-confidence"
UNLINKED_FLAG = "unlinked"
#: a link below `--min-confidence`: its reference is not used (reference-free metrics
#: still score its hypothesis)
BELOW_MIN_CONFIDENCE_FLAG = "below-min-confidence"


@dataclass(frozen=True)
class ScoringUnit:
    doc_id: str
    src_ids: tuple[int, ...]  # 1-based source segment numbers; empty for a reference-only unit
    ref_ids: tuple[int, ...]  # 1-based reference segment numbers; empty without reference
    src: str
    ref: str | None
    #: confidence of the alignment link the unit came from (None: not aligned)
    confidence: float | None = None
    flags: tuple[str, ...] = ()
    #: for units of a sentence alignment: (0-based line, 0-based sentence within the line)
    #: of each source sentence, to find its translation; empty for line-based units
    sentence_positions: tuple[tuple[int, int], ...] = ()
    #: the unit's text in each further reference ("" where that reference has none)
    more_refs: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        return references_of(self.ref, self.more_refs)

    def scorable_by(self, needs_reference: bool) -> bool:
        """Reference-based metrics need a reference; reference-free ones judge the output
        against its source, so a reference paragraph no source paragraph links to (an
        `unlinked` unit, empty hypothesis) counts against recall but gets no
        reference-free score."""
        if needs_reference:
            return self.ref is not None
        return bool(self.src_ids)


def references_of(ref: str | None, more_refs: Sequence[str]) -> tuple[str, ...]:
    """Every reference text of a unit, empty ones left out as sacrebleu leaves out missing
    references; () without reference. A unit whose references are all empty keeps its
    one empty reference, scored as such."""
    if ref is None:
        return ()
    given = tuple(text for text in (ref, *more_refs) if text.strip())
    return given or (ref,)


def scored_as(doc: Document, aligner: DocumentAligner | None = None) -> str:
    if doc.reference is None:
        return SCORED_AS_NONE
    if doc.aligned:
        return SCORED_AS_SEGMENTS
    return SCORED_AS_ALIGNED if aligner is not None else SCORED_AS_DOCUMENT


@dataclass
class Units:
    """The scoring units of a test set, and the alignments they were made from."""

    units: list[ScoringUnit] = field(default_factory=list)
    alignments: dict[str, DocumentAlignment] = field(default_factory=dict)
    #: the alignment of each further reference of a document, in reference order
    more_alignments: dict[str, list[DocumentAlignment]] = field(default_factory=dict)
    #: how each document is scored (`SCORED_AS_*`)
    scored_as: dict[str, str] = field(default_factory=dict)
    #: per document not read line by line, the source and the reference lines set aside
    #: as having nothing to translate, each knowing the other side
    set_aside: dict[str, tuple[list[SkippedLine], list[SkippedLine]]] = field(default_factory=dict)
    #: per aligned document, how many links fell below `min_confidence`
    below_min_confidence: dict[str, int] = field(default_factory=dict)


def scoring_units(
    test_set: TestSet,
    aligner: DocumentAligner | None = None,
    align_unit: AlignUnit = "paragraph",
    min_confidence: float | None = None,
) -> Units:
    """`align_unit` "sentence" makes sentence links the units of aligned documents; their
    hypotheses then need each system's translation sentence by sentence (`--unit sentence`).
    Links whose confidence is below `min_confidence` keep their hypothesis but lose their
    reference: a doubtful link would score each system against the wrong text.
    """
    result = Units()
    for doc in test_set.documents:
        how = scored_as(doc, aligner)
        result.scored_as[doc.id] = how
        src = doc.source.segments
        if not doc.aligned:
            ref = doc.reference.segments if doc.reference is not None else None
            result.set_aside[doc.id] = (
                split_translatable(src, ref)[1],
                split_translatable(ref, src)[1] if ref is not None else [],
            )
        if how == SCORED_AS_ALIGNED:
            assert doc.reference is not None and aligner is not None
            alignment = aligner.align(
                src, doc.reference.segments, align_unit, doc.source.lang, doc.reference.lang
            )
            result.alignments[doc.id] = alignment
            result.below_min_confidence[doc.id] = sum(
                bool(link.src and link.ref)
                and below_min_confidence(link.confidence, min_confidence)
                for link in alignment.links
            )
            positions = (
                _sentence_positions(src, doc.source.lang) if align_unit == "sentence" else []
            )
            units = _aligned_units(doc.id, alignment, positions, min_confidence)
            if doc.more_references:
                more = [
                    aligner.align(src, extra.segments, align_unit, doc.source.lang, extra.lang)
                    for extra in doc.more_references
                ]
                result.more_alignments[doc.id] = more
                units = _with_more_references(units, more)
            result.units += units
        elif how == SCORED_AS_DOCUMENT:
            assert doc.reference is not None
            ref = doc.reference.segments
            result.units.append(
                ScoringUnit(
                    doc.id,
                    tuple(range(1, len(src) + 1)),
                    tuple(range(1, len(ref) + 1)),
                    " ".join(src),
                    " ".join(ref),
                    more_refs=tuple(" ".join(extra.segments) for extra in doc.more_references),
                )
            )
        elif how == SCORED_AS_SEGMENTS:
            assert doc.reference is not None
            result.units += [
                ScoringUnit(
                    doc.id,
                    (i,),
                    (i,),
                    text,
                    doc.reference.segments[i - 1],
                    more_refs=tuple(extra.segments[i - 1] for extra in doc.more_references),
                )
                for i, text in enumerate(src, start=1)
            ]
        else:
            kept, _ = split_translatable(src)
            result.units += [ScoringUnit(doc.id, (i + 1,), (), src[i], None) for i in kept]
    return result


def _sentence_positions(lines: Sequence[str], lang: str) -> list[tuple[int, int]]:
    """(line, sentence within line) of every sentence of the document, 0-based."""
    _, of_line = document_sentences(lines, lang)
    return [(number - 1, k) for number, ids in of_line.items() for k in range(len(ids))]


def below_min_confidence(confidence: float, min_confidence: float | None) -> bool:
    return min_confidence is not None and confidence < min_confidence


def _aligned_units(
    doc_id: str,
    alignment: DocumentAlignment,
    positions: Sequence[tuple[int, int]] = (),
    min_confidence: float | None = None,
) -> list[ScoringUnit]:
    """One unit per link. An unlinked source paragraph is scored against an empty
    reference and an unlinked reference paragraph against an empty hypothesis, so the
    document's text is covered in full, as when it is scored whole. A link below
    `min_confidence` keeps its source, without its reference."""
    units = []
    for link in alignment.links:
        flags: tuple[str, ...] = ()
        reference: str | None = " ".join(alignment.ref_units[j - 1] for j in link.ref)
        if not link.src or not link.ref:
            flags = (UNLINKED_FLAG,)
        else:
            if link.low_confidence:
                flags = (LOW_CONFIDENCE_FLAG,)
            if below_min_confidence(link.confidence, min_confidence):
                flags += (BELOW_MIN_CONFIDENCE_FLAG,)
                reference = None
        units.append(
            ScoringUnit(
                doc_id,
                link.src,
                link.ref,
                " ".join(alignment.src_units[i - 1] for i in link.src),
                reference,
                link.confidence,
                flags,
                tuple(positions[i - 1] for i in link.src) if positions else (),
            )
        )
    return units


def _with_more_references(
    units: list[ScoringUnit], alignments: Sequence[DocumentAlignment]
) -> list[ScoringUnit]:
    """The units of the first reference's alignment, each given its text in every further
    reference: the reference units linked to its source units in that reference's own
    alignment. A link of a further reference belongs to the unit holding its first source
    unit; a unit without reference (unlinked, or below --min-confidence) gets none."""
    owner = {i: k for k, u in enumerate(units) if u.ref is not None for i in u.src_ids}
    texts: list[list[list[str]]] = [[[] for _ in alignments] for _ in units]
    for r, alignment in enumerate(alignments):
        for link in alignment.links:
            if link.src and link.ref and link.src[0] in owner:
                texts[owner[link.src[0]]][r] += [alignment.ref_units[j - 1] for j in link.ref]
    return [
        replace(u, more_refs=tuple(" ".join(parts) for parts in texts[k]))
        if u.ref is not None
        else u
        for k, u in enumerate(units)
    ]
