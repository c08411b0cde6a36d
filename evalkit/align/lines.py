"""Lines with nothing to translate: scraping leftovers that must not steer an alignment.

Web-scraped articles carry lines that no translator renders as a paragraph: a page
counter, a bracketed photo caption tag, a dateline, a one-word source credit. Left in,
they pull the alignment off by one unit. The rules are about the shape of a line only
(letters, brackets, dates, length), never about particular words, so they hold for any
language and any article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

NO_WORDS = "no words (a number or symbols)"
BRACKETED = "bracketed tag"
DATELINE = "dateline"
FRAGMENT = "lone short fragment (a credit or label)"

_OPEN_TO_CLOSE = {"(": ")", "[": "]", "{": "}", "«": "»", "<": ">", "【": "】", "﴿": "﴾"}
_SENTENCE_END = ".!?؟…"
#: a clock time (21:12) or a plausible year (1900–2099), in any script's digits
_DATE_TOKEN = re.compile(r"(?<!\d)(\d{1,2}:\d{2}|(19|20)\d{2})(?!\d)")
#: words of a dateline besides its numbers (weekday, month, place)
_DATELINE_MAX_WORDS = 4
#: a line of at most this many words, without an ending stop, is a label, not prose
_FRAGMENT_MAX_WORDS = 2


@dataclass(frozen=True)
class SkippedLine:
    """A line left out of alignment and scoring, and why."""

    index: int  # 1-based, over the side's non-empty lines
    text: str
    reason: str


def _words(text: str) -> list[str]:
    return [token for token in text.split() if any(ch.isalpha() for ch in token)]


def _is_bracketed(text: str) -> bool:
    closer = _OPEN_TO_CLOSE.get(text[:1])
    return closer is not None and text.endswith(closer) and closer not in text[1:-1]


def non_translatable_reason(line: str) -> str | None:
    """Why `line` carries no translatable content, or None when it does."""
    text = line.strip()
    if not text:
        return None
    if not any(ch.isalpha() for ch in text):
        return NO_WORDS
    if _is_bracketed(text) and len(_words(text)) <= _FRAGMENT_MAX_WORDS:
        return BRACKETED
    words = _words(text)
    if _DATE_TOKEN.search(text) and len(words) <= _DATELINE_MAX_WORDS:
        return DATELINE
    if len(words) <= _FRAGMENT_MAX_WORDS and not text.endswith(tuple(_SENTENCE_END)):
        return FRAGMENT
    return None


def split_translatable(segments: Sequence[str]) -> tuple[list[int], list[SkippedLine]]:
    """0-based indices of the translatable segments, and the skipped ones with reasons."""
    kept: list[int] = []
    skipped: list[SkippedLine] = []
    for i, text in enumerate(segments):
        reason = non_translatable_reason(text)
        if reason is None:
            kept.append(i)
        else:
            skipped.append(SkippedLine(i + 1, text, reason))
    return kept, skipped
