"""Score hypotheses: which texts are compared, and the numbers at three levels.

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

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from evalkit.align import Aligner, DocumentAlignment
from evalkit.align.document import AlignUnit, document_sentences
from evalkit.align.lines import split_translatable
from evalkit.corpus.model import Document, TestSet
from evalkit.metrics.base import Metric, Stats

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


def references_of(ref: str | None, more_refs: Sequence[str]) -> tuple[str, ...]:
    """Every reference text of a unit, empty ones left out as sacrebleu leaves out missing
    references; () without reference. A unit whose references are all empty keeps its
    one empty reference, scored as such."""
    if ref is None:
        return ()
    given = tuple(text for text in (ref, *more_refs) if text.strip())
    return given or (ref,)


def count_references(metrics: Sequence[Metric], references: Sequence[Sequence[str]]) -> None:
    """Tell each metric how many references its segments have, before any signature is
    read: signatures name it (`nrefs:2`, `nrefs:var`)."""
    counts = {len(refs) for refs in references}
    for metric in metrics:
        metric.count_references(counts)


def scored_as(doc: Document, aligner: Aligner | None = None) -> str:
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


def scoring_units(
    test_set: TestSet,
    aligner: Aligner | None = None,
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
        src = doc.source.segments
        if how == SCORED_AS_ALIGNED:
            assert doc.reference is not None and aligner is not None
            alignment = aligner.align(
                src, doc.reference.segments, align_unit, doc.source.lang, doc.reference.lang
            )
            result.alignments[doc.id] = alignment
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


def unit_hypotheses(
    units: Sequence[ScoringUnit],
    hypotheses: dict[str, list[str]],
    unit_translations: dict[str, list[list[str]]] | None = None,
) -> list[str]:
    """The hypothesis text of each unit: its source segments' outputs, joined; for a unit
    of sentences, those sentences' translations (from `unit_translations`), joined."""
    out = []
    for u in units:
        if u.sentence_positions:
            if unit_translations is None:
                raise ValueError("sentence units need the translation of each sentence")
            line_units = unit_translations[u.doc_id]
            out.append(" ".join(line_units[line][k] for line, k in u.sentence_positions))
        else:
            out.append(" ".join(hypotheses[u.doc_id][i - 1] for i in u.src_ids))
    return out


Score = float | None


@dataclass
class SystemScores:
    corpus: dict[str, Score] = field(default_factory=dict)
    documents: dict[str, dict[str, Score]] = field(default_factory=dict)
    segments: list[dict[str, Score]] = field(default_factory=list)
    #: per segment, per metric that marks them, the error spans in the hypothesis
    spans: list[dict[str, list[dict[str, object]]]] = field(default_factory=list)


def _applies(metric: Metric, unit: ScoringUnit) -> bool:
    """Reference-based metrics need a reference; reference-free ones judge the output
    against its source, so a reference paragraph no source paragraph links to (an
    `unlinked` unit, empty hypothesis) counts against recall but gets no
    reference-free score."""
    if metric.needs_reference:
        return unit.ref is not None
    return bool(unit.src_ids)


class StatisticsStore(Protocol):
    """Where segment statistics outlive the process (the cache file's statistics table)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, Stats]: ...

    def put_many(self, stats: dict[str, Stats]) -> None: ...


References = tuple[str, ...]


def statistics_key(
    signature: str, hypothesis: str, references: References | None, source: str
) -> str:
    """Statistics are a function of the metric (its signature says everything that changes
    them) and the texts: the key hashes exactly those. One reference is keyed as its text
    (the keys of one-reference runs stay as they were), several as a list."""
    reference: str | list[str] | None = None
    if references is not None:
        reference = references[0] if len(references) == 1 else list(references)
    blob = json.dumps([signature, hypothesis, reference, source], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _compute(
    metric: Metric,
    hypotheses: Sequence[str],
    references: Sequence[References] | None,
    sources: Sequence[str],
) -> list[Stats]:
    """The metric's own call: one reference per segment as plain texts (the metric's
    first interface), several through `multi_reference_statistics`."""
    if references is None:
        return metric.segment_statistics(hypotheses, None, sources)
    if all(len(refs) == 1 for refs in references):
        return metric.segment_statistics(hypotheses, [refs[0] for refs in references], sources)
    return metric.multi_reference_statistics(hypotheses, references, sources)


def segment_statistics(
    metric: Metric,
    hypotheses: Sequence[str],
    references: Sequence[References] | None,
    sources: Sequence[str],
    store: StatisticsStore | None = None,
) -> list[Stats]:
    """The metric's statistics of each segment (against every reference of the segment),
    read from `store` where computed before; only the missing segments reach the metric
    (so a model loads only when one is missing), and what it computes is stored at once."""
    if not hypotheses:
        return []
    if store is None or not metric.per_segment:
        return _compute(metric, hypotheses, references, sources)
    signature = metric.signature()
    keys = [
        statistics_key(signature, hyp, references[i] if references is not None else None, src)
        for i, (hyp, src) in enumerate(zip(hypotheses, sources, strict=True))
    ]
    found = store.get_many(list(dict.fromkeys(keys)))
    first_of_key: dict[str, int] = {}
    for i, key in enumerate(keys):
        first_of_key.setdefault(key, i)
    missing = [i for key, i in first_of_key.items() if key not in found]
    if missing:
        computed = _compute(
            metric,
            [hypotheses[i] for i in missing],
            [references[i] for i in missing] if references is not None else None,
            [sources[i] for i in missing],
        )
        fresh = {keys[i]: list(row) for i, row in zip(missing, computed, strict=True)}
        store.put_many(fresh)
        found.update(fresh)
    return [list(found[key]) for key in keys]


def score_system(
    units: Sequence[ScoringUnit],
    hypotheses: Sequence[str],
    metrics: Sequence[Metric],
    store: StatisticsStore | None = None,
) -> SystemScores:
    """Corpus, per-document and per-unit scores of one system; None where not applicable.
    With a `store`, statistics computed before (by any run, any system) are reused."""
    doc_ids = list(dict.fromkeys(u.doc_id for u in units))
    result = SystemScores(
        documents={doc_id: {} for doc_id in doc_ids},
        segments=[{} for _ in units],
        spans=[{} for _ in units],
    )
    for metric in metrics:
        rows = [i for i, u in enumerate(units) if _applies(metric, u)]
        stats = segment_statistics(
            metric,
            [hypotheses[i] for i in rows],
            [units[i].references for i in rows] if metric.needs_reference else None,
            [units[i].src for i in rows],
            store,
        )
        by_row = dict(zip(rows, stats, strict=True))
        result.corpus[metric.name] = metric.corpus_score(stats) if stats else None
        for doc_id in doc_ids:
            doc_stats = [s for i, s in by_row.items() if units[i].doc_id == doc_id]
            result.documents[doc_id][metric.name] = (
                metric.corpus_score(doc_stats) if doc_stats else None
            )
        for i in range(len(units)):
            result.segments[i][metric.name] = (
                metric.segment_score(by_row[i]) if i in by_row else None
            )
            spans = metric.segment_spans(by_row[i], hypotheses[i]) if i in by_row else None
            if spans is not None:
                result.spans[i][metric.name] = spans
    return result
