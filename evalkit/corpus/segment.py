"""Paragraph and sentence segmentation that keeps character offsets into the original text.

Sentences come from pysbd. Its Arabic rules end a sentence at every Arabic comma (،) and
colon, which cuts news prose into clauses; the Arabic rules here end sentences only at
. ! ? and ؟ (closing quotes stay with their sentence) and know a few more abbreviations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import ClassVar

import pysbd
from pysbd.lang.arabic import Arabic


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: its text (without surrounding spaces) and where it lies."""

    text: str
    start: int
    end: int


class _ArabicSentenceRules(Arabic):
    Punctuations: ClassVar[list[str]] = ["?", "!", ".", "؟"]
    SENTENCE_BOUNDARY_REGEX = r".*?[\.!\?؟]|.*?\Z|.*?$"

    class Abbreviation(Arabic.Abbreviation):
        ABBREVIATIONS: ClassVar[list[str]] = [
            *Arabic.Abbreviation.ABBREVIATIONS,
            "د",
            "أ",
            "ص",
            "ق",
        ]


_CUSTOM_RULES = {"ar": _ArabicSentenceRules}


@cache
def _segmenter(lang: str) -> pysbd.Segmenter:
    base = lang if lang in pysbd.languages.LANGUAGE_CODES else "en"
    segmenter = pysbd.Segmenter(language=base, clean=False, char_span=False)
    if lang in _CUSTOM_RULES:
        segmenter.language_module = _CUSTOM_RULES[lang]
    return segmenter


def paragraphs(lines: list[str]) -> list[str]:
    """A paragraph is a line with some non-space text; blank lines only separate."""
    return [line for line in lines if line.strip()]


def split_sentences(paragraph: str, lang: str) -> list[Span]:
    """Split one paragraph into sentences; offsets index into `paragraph` itself.

    pysbd decides where sentences end; offsets are found here by searching each sentence
    forward from the end of the previous one (pysbd's own spans can point to an earlier
    copy of a repeated sentence). Languages pysbd does not know use its English rules.
    Every non-space character of the paragraph is in one sentence: text pysbd leaves out
    (it drops "?!" after "a.") joins the sentence before it.
    """
    spans: list[Span] = []
    cursor = 0
    for piece in _segmenter(lang).segment(paragraph):
        text = piece.strip()
        if not text:
            continue
        start = paragraph.find(text, cursor)
        if start < 0:  # not found verbatim: keep the rest of the paragraph as one sentence
            rest = _trimmed(paragraph, cursor, len(paragraph))
            if rest is not None:
                spans.append(rest)
            return spans
        end = start + len(text)
        if spans:
            _absorb(spans, paragraph, cursor, start)
        else:  # text before the first sentence starts it
            start = cursor
        # A closing quote or bracket pysbd put first belongs to the sentence before it.
        while spans and start < end and spans[-1].end == start and paragraph[start] in _CLOSERS:
            start += 1
            spans[-1] = Span(paragraph[spans[-1].start : start], spans[-1].start, start)
        span = _trimmed(paragraph, start, end)
        if span is not None:
            spans.append(span)
        cursor = end
    _absorb(spans, paragraph, cursor, len(paragraph))
    return spans


def _absorb(spans: list[Span], paragraph: str, start: int, end: int) -> None:
    """Text in paragraph[start:end] outside every sentence joins the last sentence (or
    becomes the first one)."""
    gap = _trimmed(paragraph, start, end)
    if gap is None:
        return
    if spans:
        first = spans[-1].start
        spans[-1] = Span(paragraph[first : gap.end], first, gap.end)
    else:
        spans.append(gap)


_CLOSERS = frozenset("\"'»”’)]}")


def _trimmed(paragraph: str, start: int, end: int) -> Span | None:
    text = paragraph[start:end]
    stripped = text.strip()
    if not stripped:
        return None
    start += len(text) - len(text.lstrip())
    return Span(text=stripped, start=start, end=start + len(stripped))


@lru_cache(maxsize=65536)
def sentences(paragraph: str, lang: str) -> tuple[str, ...]:
    """The sentences of a non-blank paragraph as every stage sees them: translation with
    `--unit sentence`, sentence alignment and sentence-level scoring all read this one
    split (made once per text and language in a process), so sentence k of the alignment
    is sentence k the system translated. A paragraph the splitter finds no sentence in
    is one sentence."""
    return tuple(span.text for span in split_sentences(paragraph, lang)) or (paragraph.strip(),)
