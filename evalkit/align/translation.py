"""Translation-based alignment (Bleualign, Sennrich & Volk 2010): align through a pivot.

A pivot system translates each source unit into the reference's language; the pivot
units are then aligned with the reference units monolingually, by character n-grams. A
link of pivot units is a link of the source units they translate (pivot unit i is the
translation of source unit i), so the links returned are links of the source.

Why: where a reference leaves out half of each source paragraph (a chain of narrators, a
dateline), a multilingual sentence embedding of the whole paragraph drifts away from its
counterpart and towards every other paragraph of the genre. A translation of the same
paragraph still carries the names, numbers and content words of the part the reference
kept, spelled the way an English text spells them, so character n-grams find them even
when a small model translates the rest poorly.

The search is written here (`gain_search.py`), not taken from `dp.py`: it maximises a gain
(how much more two spans share than chance), with skips worth nothing, which keeps the
method free of a fitted skip price.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from evalkit.align.document import Aligner, AlignUnit, DocumentAlignment
from evalkit.align.gain_search import STEPS, best_alignment, link_margins
from evalkit.align.judging import AlignedLink
from evalkit.align.lines import split_translatable
from evalkit.align.ngrams import NgramSimilarity
from evalkit.align.sentence_links import DocumentSentences, sentences_within
from evalkit.corpus.model import Side
from evalkit.corpus.segment import sentences
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError

#: bump when a change moves links or confidences (the signature names it)
TRANSLATION_ALIGNER_VERSION = 1

#: a link is flagged for a person to check when its confidence is below this: a margin
#: under 0.7 chance spreads (1 - exp(-0.7) = 0.5), one a few shared words could make.
#: Absolute, not relative to the document's median as the length method's flags: a pivot
#: too poor to tell any paragraph apart must leave most links flagged, so the document is
#: reported unreliable. Units left out are always flagged.
FLAG_BELOW = 0.5

#: translate these source units (source language, reference language) into the
#: reference's language, one pivot text per unit, in order
PivotFunction = Callable[[Sequence[str], str, str], Sequence[str]]


class MissingPivot(KeyError):
    """A source unit has no pivot translation (the pivot was made for other text)."""


@dataclass(frozen=True)
class TranslationParams:
    """The method's constants; all default to the parameter-free choice."""

    #: weight of the Gale–Church length cost of pivot span against reference span, in
    #: gain units (0: lengths unused). Lengths mislead where a reference omits much of a
    #: paragraph, which is the case this method is for.
    length_weight: float = 0.0

    def signature(self) -> str:
        return f"length-weight:{self.length_weight:g}"


class TranslationAligner:
    """Aligns document pairs through pivot translations of the source units.

    `pivot` gives the pivot text of source units, either as a mapping from a source
    unit's text (a line, or a sentence for `unit="sentence"`) to its translation, e.g.
    built from a run's translations with `from_documents`, or as a function translating
    a list of source units. `label` names the pivot system in the signature: links made
    through another pivot are other links.
    """

    method = "translation"

    def __init__(
        self,
        pivot: Mapping[str, str] | PivotFunction,
        label: str,
        params: TranslationParams | None = None,
    ) -> None:
        self.pivot = pivot
        self.label = label
        self.params = params or TranslationParams()

    @classmethod
    def from_documents(
        cls,
        pivots: Mapping[str, Sequence[str]],
        sources: Mapping[str, Sequence[str]],
        label: str,
        params: TranslationParams | None = None,
    ) -> TranslationAligner:
        """An aligner from each document's pivot lines: `pivots[doc_id][k]` translates
        `sources[doc_id][k]` (both one entry per non-empty source line, as a run keeps
        hypotheses). Documents missing from `pivots` have no pivot."""
        table = pivot_table(pivots, sources)
        return cls(table, label, params)

    def signature(self) -> str:
        steps = ",".join(f"{a}:{b}" for a, b in STEPS)
        return "|".join(
            [
                f"align:v{TRANSLATION_ALIGNER_VERSION}",
                f"method:{self.method}",
                f"pivot:{self.label}",
                f"steps:{steps}",
                f"similarity:{NgramSimilarity.NAME}",
                "gain:similarity-minus-chance",
                self.params.signature(),
                "confidence:margin/chance-spread",
                f"flag-below:{FLAG_BELOW:g}",
            ]
        )

    def translate(self, texts: Sequence[str], src_lang: str, ref_lang: str) -> list[str]:
        """The pivot text of each source unit; `MissingPivot` when one has none."""
        if callable(self.pivot):
            out = list(self.pivot(list(texts), src_lang, ref_lang))
            if len(out) != len(texts):
                raise ValueError(f"pivot gave {len(out)} texts for {len(texts)} units")
            return out
        return [self._look_up(text, src_lang) for text in texts]

    def _look_up(self, text: str, src_lang: str) -> str:
        """A unit's pivot from the mapping: its own, else its sentences' joined (a run
        that translated sentence by sentence keeps those, as its hypothesis line joins
        them)."""
        assert not callable(self.pivot)
        key = text.strip()
        if key in self.pivot:
            return self.pivot[key]
        parts = sentences(key, src_lang)
        if len(parts) > 1 and all(p in self.pivot for p in parts):
            return " ".join(self.pivot[p] for p in parts)
        raise MissingPivot(f"no pivot translation for {key[:60]!r}")

    def align_units(self, pivot: Sequence[str], ref: Sequence[str]) -> list[AlignedLink]:
        """Align pivot units with reference units (0-based input, 0-based links).

        A link's confidence is its margin (how much less the best alignment without it
        earns) measured in the spread of the document's chance cosines (`noise`): a
        margin of a few chance spreads is no accident of shared words, whatever the
        pivot's quality, the genre and the omissions make of the cosines' level.
        """
        if not pivot and not ref:
            return []
        similarity = NgramSimilarity(pivot, ref, self.params.length_weight)
        found = best_alignment(len(pivot), len(ref), similarity.gain)
        margins = link_margins(len(pivot), len(ref), similarity.gain, found)
        scale = similarity.noise
        links = []
        for link, margin in zip(found, margins, strict=True):
            linked = bool(link.src and link.ref)
            confidence = 1.0 - math.exp(-margin / scale) if math.isfinite(margin) else 1.0
            links.append(
                AlignedLink(
                    link.src,
                    link.ref,
                    round(-link.gain, 4),
                    round(confidence, 4) if linked else 0.0,
                )
            )
        return links

    def align_paragraphs(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        src_lang: str = "ar",
        ref_lang: str = "en",
        pivot: Sequence[str] | None = None,
    ) -> DocumentAlignment:
        """Align non-empty lines; links are 1-based over each side's lines. `pivot`: the
        pivot text of every source line, else asked of the aligner's pivot."""
        src_kept, src_skipped = split_translatable(src, ref)
        ref_kept, ref_skipped = split_translatable(ref, src)
        if pivot is None:
            pivot = self.translate([src[i] for i in src_kept], src_lang, ref_lang)
        else:
            if len(pivot) != len(src):
                raise ValueError(f"{len(pivot)} pivot lines for {len(src)} source lines")
            pivot = [pivot[i] for i in src_kept]
        links = [
            replace(
                link,
                src=tuple(src_kept[i] + 1 for i in link.src),
                ref=tuple(ref_kept[j] + 1 for j in link.ref),
            )
            for link in self.align_units(pivot, [ref[j] for j in ref_kept])
        ]
        return DocumentAlignment(
            "paragraph",
            self.method,
            self.signature(),
            flag_links(links),
            list(src),
            list(ref),
            src_skipped,
            ref_skipped,
        )

    def align_sentences(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        src_lang: str,
        ref_lang: str,
        pivot: Sequence[str] | None = None,
    ) -> DocumentAlignment:
        """Sentences aligned inside each paragraph link, through the pivot's sentence
        translations; 1-based over each side's sentences. Where the pivot has no
        translation of a link's sentences (a pivot made line by line), the link's
        sentences are aligned by lengths, as the length method does."""
        paragraphs = self.align_paragraphs(src, ref, src_lang, ref_lang, pivot)
        split = DocumentSentences.split(src, ref, src_lang, ref_lang)
        found = sentences_within(
            paragraphs.links,
            paragraphs.skipped_src,
            paragraphs.skipped_ref,
            split,
            lambda s, r: self._sentence_links(s, r, src_lang, ref_lang),
        )
        return DocumentAlignment(
            "sentence",
            self.method,
            self.signature(),
            flag_links(found.links),
            split.src,
            split.ref,
            found.skipped_src,
            found.skipped_ref,
        )

    def _sentence_links(
        self, src: list[str], ref: list[str], src_lang: str, ref_lang: str
    ) -> list[AlignedLink]:
        """One paragraph link's sentences, through the pivot, else by lengths."""
        if not src or not ref:
            return [AlignedLink((i,), (), 0.0, 0.0) for i in range(len(src))] + [
                AlignedLink((), (j,), 0.0, 0.0) for j in range(len(ref))
            ]
        try:
            pivot = self.translate(src, src_lang, ref_lang)
        except MissingPivot:
            return Aligner("length").align_units(src, ref)  # lengths: no encoder loaded
        return self.align_units(pivot, ref)

    def align(
        self,
        src: Sequence[str],
        ref: Sequence[str],
        unit: AlignUnit = "paragraph",
        src_lang: str = "ar",
        ref_lang: str = "en",
        pivot: Sequence[str] | None = None,
    ) -> DocumentAlignment:
        """As `Aligner.align`; `pivot`: this document's pivot line per source line."""
        if unit == "sentence":
            return self.align_sentences(src, ref, src_lang, ref_lang, pivot)
        return self.align_paragraphs(src, ref, src_lang, ref_lang, pivot)


def pivot_table(
    pivots: Mapping[str, Sequence[str]], sources: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """{source line: its pivot line} from each document's pivot lines, `pivots[doc_id][k]`
    translating `sources[doc_id][k]`."""
    table: dict[str, str] = {}
    for doc_id, lines in pivots.items():
        source = sources[doc_id]
        if len(lines) != len(source):
            raise ValueError(
                f"document {doc_id!r}: {len(lines)} pivot lines for {len(source)} source lines"
            )
        table.update((s.strip(), p) for s, p in zip(source, lines, strict=True))
    return table


def flag_links(links: list[AlignedLink]) -> list[AlignedLink]:
    """The same links, those left unlinked or below `FLAG_BELOW` flagged."""
    return [
        replace(link, low_confidence=not (link.src and link.ref) or link.confidence < FLAG_BELOW)
        for link in links
    ]


def pivot_lines(source_lines: Sequence[str], pivot_lines: Sequence[str]) -> list[str]:
    """The pivot text of each non-empty source line, from a file of translations laid
    out like the source file: line for line (blank where the source is blank), or one
    line per non-empty source line. A file that is neither is refused: a pivot shifted by
    one line would link every paragraph through its neighbour's translation."""
    if len(pivot_lines) == len(source_lines):
        return [p for s, p in zip(source_lines, pivot_lines, strict=True) if s.strip()]
    kept = [p for p in pivot_lines if p.strip()]
    wanted = sum(1 for s in source_lines if s.strip())
    if len(kept) != wanted:
        raise ValueError(
            f"the pivot file has {len(pivot_lines)} lines ({len(kept)} non-blank); the "
            f"source has {len(source_lines)} ({wanted} non-blank)"
        )
    return kept


def read_pivot_file(path: Path, source_lines: Sequence[str]) -> list[str]:
    """The pivot text of each non-empty source line from a file of translations
    (`pivot_lines`); a file laid out otherwise is the user's error, named."""
    try:
        return pivot_lines(source_lines, read_lines(path))
    except ValueError as err:
        raise UserInputError(str(err), path) from None


def file_pivot_aligner(path: Path, source: Side) -> TranslationAligner:
    """An aligner through a file of translations of one document's source, laid out like
    its source file (`pivot_lines`); the signature names the pivot by its file name."""
    source_lines = read_lines(Path(source.path)) if source.path else list(source.segments)
    lines = read_pivot_file(path, source_lines)
    return TranslationAligner(
        {s.strip(): p for s, p in zip(source.segments, lines, strict=True)}, f"file:{path.name}"
    )
