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
#: sentence stops of Latin, Arabic, Urdu and CJK text (full-width and half-width)
_SENTENCE_END = ".!?؟…۔。！？｡"
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


#: scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, Han
_UNSPACED = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
)
#: letters of an unspaced script per word, about (Chinese words average under two)
_LETTERS_PER_UNSPACED_WORD = 2


def _unspaced(ch: str) -> bool:
    return any(low <= ord(ch) <= high for low, high in _UNSPACED)


def _word_count(text: str) -> int:
    """Words of the text: space-separated tokens with a letter, except that a run of a script
    written without spaces counts one word per two letters. A whole Chinese sentence is one
    token; counted as one word it would look like a two-word label and be set aside."""
    count = 0
    for token in text.split():
        unspaced = sum(_unspaced(ch) for ch in token)
        if unspaced:
            count += -(-unspaced // _LETTERS_PER_UNSPACED_WORD)
        elif any(ch.isalpha() for ch in token):
            count += 1
    return count


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
    words = _word_count(text)
    if _is_bracketed(text) and words <= _FRAGMENT_MAX_WORDS:
        return BRACKETED
    if _DATE_TOKEN.search(text) and words <= _DATELINE_MAX_WORDS:
        return DATELINE
    if words <= _FRAGMENT_MAX_WORDS and not text.endswith(tuple(_SENTENCE_END)):
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
