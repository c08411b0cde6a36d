"""Paragraph and sentence segmentation that keeps character offsets into the original text.

Sentences come from pysbd. Its Arabic rules end a sentence at every Arabic comma (،) and
colon, which cuts news prose into clauses; the Arabic rules here end sentences only at
. ! ? and ؟ (closing quotes stay with their sentence) and know a few more abbreviations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.lang.arabic import Arabic


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: its text (without surrounding spaces) and where it lies."""

    text: str
    start: int
    end: int


class _ArabicSentenceRules(Arabic):
    Punctuations = ["?", "!", ".", "؟"]
    SENTENCE_BOUNDARY_REGEX = r".*?[\.!\?؟]|.*?\Z|.*?$"

    class Abbreviation(Arabic.Abbreviation):
        ABBREVIATIONS = [*Arabic.Abbreviation.ABBREVIATIONS, "د", "أ", "ص", "ق"]


_CUSTOM_RULES = {"ar": _ArabicSentenceRules}


@lru_cache(maxsize=None)
def _segmenter(lang: str) -> pysbd.Segmenter:
    base = lang if lang in pysbd.languages.LANGUAGE_CODES else "en"
    segmenter = pysbd.Segmenter(language=base, clean=False, char_span=True)
    if lang in _CUSTOM_RULES:
        segmenter.language_module = _CUSTOM_RULES[lang]
    return segmenter


def paragraphs(lines: list[str]) -> list[str]:
    """A paragraph is a line with some non-space text; blank lines only separate."""
    return [line for line in lines if line.strip()]


def split_sentences(paragraph: str, lang: str) -> list[Span]:
    """Split one paragraph into sentences; offsets index into `paragraph` itself.

    Languages pysbd does not know fall back to its English rules, which split on
    . ! ? and protect common abbreviations.
    """
    if not paragraph.strip():
        return []
    spans: list[Span] = []
    for piece in _segmenter(lang).segment(paragraph):
        text = piece.sent.strip()
        if not text:
            continue
        start = piece.start + (len(piece.sent) - len(piece.sent.lstrip()))
        spans.append(Span(text=text, start=start, end=start + len(text)))
    return spans
