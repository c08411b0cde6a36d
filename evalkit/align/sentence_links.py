"""Sentences aligned inside each paragraph link, for every aligner: paragraphs are
aligned first and then the sentences of each link, so a sentence link never crosses a
paragraph link. What differs between aligners is only how one link's sentences are
paired (`LinkSentences`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from evalkit.align.judging import AlignedLink
from evalkit.align.lines import SkippedLine, non_translatable_reason
from evalkit.corpus.segment import sentences

#: pairs the sentences of one paragraph link; links 0-based over the lists it is given
LinkSentences = Callable[[list[str], list[str]], Iterable[AlignedLink]]


def document_sentences(
    paragraphs: Sequence[str], lang: str
) -> tuple[list[str], dict[int, list[int]]]:
    """All sentences of a document, and the 0-based sentence numbers of each 1-based line.

    The same split as translation with `--unit sentence` (`corpus.segment.sentences`), so
    sentence k of the alignment is sentence k the system translated.
    """
    found: list[str] = []
    of_line: dict[int, list[int]] = {}
    for number, paragraph in enumerate(paragraphs, start=1):
        spans = sentences(paragraph, lang)
        of_line[number] = list(range(len(found), len(found) + len(spans)))
        found.extend(spans)
    return found, of_line


@dataclass(frozen=True)
class DocumentSentences:
    """Both sides' sentences and, per 1-based line, its 0-based sentence numbers."""

    src: list[str]
    src_of: dict[int, list[int]]
    ref: list[str]
    ref_of: dict[int, list[int]]

    @classmethod
    def split(
        cls, src: Sequence[str], ref: Sequence[str], src_lang: str, ref_lang: str
    ) -> DocumentSentences:
        return cls(*document_sentences(src, src_lang), *document_sentences(ref, ref_lang))


@dataclass(frozen=True)
class SentenceLinks:
    """The sentence links of a document (1-based over each side's sentences) and the
    sentences set aside on each side."""

    links: list[AlignedLink]
    skipped_src: list[SkippedLine]
    skipped_ref: list[SkippedLine]


def sentences_within(
    links: Sequence[AlignedLink],
    skipped_src: Sequence[SkippedLine],
    skipped_ref: Sequence[SkippedLine],
    split: DocumentSentences,
    pair: LinkSentences,
) -> SentenceLinks:
    """Pair the sentences of each paragraph link with `pair`. The sentences of lines the
    paragraph alignment set aside stay aside, and a stray "." or a bracketed tag left as
    a sentence of its own is set aside too."""
    aside_src = [
        SkippedLine(k + 1, split.src[k], line.reason)
        for line in skipped_src
        for k in split.src_of[line.index]
    ]
    aside_ref = [
        SkippedLine(k + 1, split.ref[k], line.reason)
        for line in skipped_ref
        for k in split.ref_of[line.index]
    ]
    found: list[AlignedLink] = []
    for group in links:
        src_ids = _translatable(
            [k for p in group.src for k in split.src_of[p]], split.src, aside_src
        )
        ref_ids = _translatable(
            [k for p in group.ref for k in split.ref_of[p]], split.ref, aside_ref
        )
        for link in pair([split.src[k] for k in src_ids], [split.ref[k] for k in ref_ids]):
            found.append(
                replace(
                    link,
                    src=tuple(src_ids[i] + 1 for i in link.src),
                    ref=tuple(ref_ids[j] + 1 for j in link.ref),
                )
            )
    aside_src.sort(key=lambda line: line.index)
    aside_ref.sort(key=lambda line: line.index)
    return SentenceLinks(found, aside_src, aside_ref)


def _translatable(ids: list[int], texts: list[str], skipped: list[SkippedLine]) -> list[int]:
    """The ids whose sentence has something to translate; the others go to `skipped`."""
    kept = []
    for k in ids:
        reason = non_translatable_reason(texts[k])
        if reason is None:
            kept.append(k)
        else:
            skipped.append(SkippedLine(k + 1, texts[k], reason))
    return kept
