"""Lines with nothing to translate: scraping leftovers that must not steer an alignment.

Web-scraped articles carry lines that no translator renders as a paragraph: a page
counter, a link, a bracketed photo caption tag, a dateline, an agency credit or a byline.
Left in, they pull the alignment off by one unit. Left out wrongly, a real sentence loses
its counterpart and is never scored, so a line is set aside only on evidence:

- read alone, its shape says it carries no text: no letters, links only, a short
  bracketed tag, a dateline, or a credit (a label and a colon, a copyright sign);
- a lone short fragment (a word or two, a name after a dash, a byline; no sentence stop),
  which may as well be a short verse, a line of dialogue or a list item, is set aside
  only where credits and labels sit, at the document's first or last line, next to a
  line that is not short itself (a run of short lines is verse or a list), and, when the
  other side of the document is known, only if that side has no line at the same edge
  short enough to be its translation.

The rules are about shape, position and lengths, never about particular words, so they
hold for any language and any article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

NO_WORDS = "no words (a number or symbols)"
LINKS = "links only (web or mail addresses, handles)"
BRACKETED = "bracketed tag"
DATELINE = "dateline"
CREDIT = "credit (a label and a colon, or a copyright sign)"
FRAGMENT = "lone short fragment at the document's edge (a credit or label)"

_OPEN_TO_CLOSE = {"(": ")", "[": "]", "{": "}", "«": "»", "<": ">", "【": "】", "﴿": "﴾"}
#: sentence stops of Latin, Arabic, Urdu and CJK text (full-width and half-width)
_SENTENCE_END = ".!?؟…۔。！？｡"
#: a clock time (21:12) or a plausible year (1900–2099), in any script's digits
_DATE_TOKEN = re.compile(r"(?<!\d)(\d{1,2}:\d{2}|(19|20)\d{2})(?!\d)")
#: words of a dateline besides its numbers (weekday, month, place)
_DATELINE_MAX_WORDS = 4
#: a bracketed line of at most this many words is a tag, not an aside
_TAG_MAX_WORDS = 2
#: a web or mail address, or a social-media handle or tag, as one token
_LINK_TOKEN = re.compile(r"^(https?://\S+|www\.\S+|[^\s@]+@[^\s@]+\.\w+|[@#]\w+)$", re.IGNORECASE)
#: dashes that introduce a credit ("— Reuters") or separate a place from an agency
_DASHES = "-‐‒–—―"
#: words a credit after a dash names (a person or an agency, maybe two)
_DASH_CREDIT_MAX_WORDS = 3
#: words of a "label: name" credit (Photo: John Smith / Agency)
_LABEL_CREDIT_MAX_WORDS = 5
#: words of a short line carrying a copyright sign
_COPYRIGHT_MAX_WORDS = 8
#: a fragment: at most this many words and no ending stop. Two words, because the
#: evidence that sets one aside is its place and the other side, not its length
_FRAGMENT_MAX_WORDS = 2
#: a line of a cased script whose every word is capitalised, this short, reads as a name
#: (a byline "By John Smith"), a fragment too
_NAME_LINE_MAX_WORDS = 4
#: the other side has a counterpart of a fragment when its line at the same edge is at
#: most this many times the length the document's length ratio predicts. On the bench's
#: hadith and legal corpora, one unit's translation never ran past 2.4 times the
#: prediction; a paragraph next to a one-word credit runs past it tenfold
_COUNTERPART_SLACK = 3.0


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


def _is_word(token: str) -> bool:
    return any(ch.isalpha() for ch in token)


def _word_count(text: str) -> int:
    """Words of the text: space-separated tokens with a letter, except that a run of a script
    written without spaces counts one word per two letters. A whole Chinese sentence is one
    token; counted as one word it would look like a two-word label and be set aside."""
    count = 0
    for token in text.split():
        unspaced = sum(_unspaced(ch) for ch in token)
        if unspaced:
            count += -(-unspaced // _LETTERS_PER_UNSPACED_WORD)
        elif _is_word(token):
            count += 1
    return count


def _is_bracketed(text: str) -> bool:
    closer = _OPEN_TO_CLOSE.get(text[:1])
    return closer is not None and text.endswith(closer) and closer not in text[1:-1]


def _links_only(text: str) -> bool:
    """Every token with a letter is an address or a handle."""
    words = [token for token in text.split() if _is_word(token)]
    return bool(words) and all(_LINK_TOKEN.match(token) for token in words)


def _capitalised(words: Sequence[str]) -> bool:
    """Every word starts with a capital, in a script that has capitals; False for scripts
    without case (Arabic, Chinese), where capitals say nothing."""
    firsts = [next(ch for ch in word if ch.isalpha()) for word in words if _is_word(word)]
    return bool(firsts) and all(ch.isupper() for ch in firsts)


def _cased(text: str) -> bool:
    return any(ch.isupper() or (ch.islower() and ch.upper() != ch) for ch in text)


def _is_credit(text: str, words: int) -> bool:
    """A credit by its punctuation, wherever it stands (a photo credit sits under a photo,
    mid-article): a label and a colon ("Photo: John Smith/Agency", "بقلم: فلان"), or a
    short line with a copyright sign."""
    if text.endswith(tuple(_SENTENCE_END)):
        return False
    tokens = text.split()
    if "©" in text and words <= _COPYRIGHT_MAX_WORDS:
        return True
    label_end = next((k for k, t in enumerate(tokens[:2]) if t.endswith(":")), None)
    if label_end is not None and words <= _LABEL_CREDIT_MAX_WORDS:
        label = " ".join(tokens[: label_end + 1]).rstrip(":").strip()
        # one word of letters before the colon ("Photo:", "Source :"), something after it
        return (
            len(label.split()) == 1
            and label.replace("-", "").isalpha()
            and label_end + 1 < len(tokens)
            and any(_is_word(t) for t in tokens[label_end + 1 :])
        )
    return False


def non_translatable_reason(line: str) -> str | None:
    """Why `line`, read alone, carries no translatable content, or None when it may.

    A lone short fragment is not told here: alone it may be a credit or a short verse
    (see `split_translatable`, which sees its place and the other side)."""
    text = line.strip()
    if not text:
        return None
    if not any(ch.isalpha() for ch in text):
        return NO_WORDS
    if _links_only(text):
        return LINKS
    words = _word_count(text)
    if _is_bracketed(text) and words <= _TAG_MAX_WORDS:
        return BRACKETED
    if _DATE_TOKEN.search(text) and words <= _DATELINE_MAX_WORDS:
        return DATELINE
    if _is_credit(text, words):
        return CREDIT
    return None


def _is_dash_credit(text: str, words: int) -> bool:
    """A name after a dash ("— Reuters", "- John Smith") or a place and an agency around one
    ("London - Reuters", "كتب - فلان"). The names are capitalised where the script has
    capitals, which tells them from a line of dialogue ("— yes, of course")."""
    tokens = text.split()
    if not 0 < words <= _DASH_CREDIT_MAX_WORDS:
        return False
    if text[0] in _DASHES:
        named = [t for t in text.lstrip(_DASHES).split() if _is_word(t)]
    elif any(t in _DASHES for t in tokens[1:-1]):
        named = [t for t in tokens if _is_word(t)]
    else:
        return False
    return not _cased(text) or _capitalised(named)


def is_fragment(line: str) -> bool:
    """A short line without an ending stop that might be a label or credit: a word or two,
    a name after a dash, or a few capitalised words of a cased script ("By John Smith").
    Such a line may as well be dialogue, a list item or a short verse: only its place and
    the other side tell (`split_translatable`)."""
    text = line.strip()
    if not text or text.endswith(tuple(_SENTENCE_END)):
        return False
    words = _word_count(text)
    if words <= _FRAGMENT_MAX_WORDS:
        return words > 0
    if _is_dash_credit(text, words):
        return True
    return (
        words <= _NAME_LINE_MAX_WORDS
        and _cased(text)
        and _capitalised([t for t in text.split() if _is_word(t)])
    )


def _kept_by_shape(segments: Sequence[str]) -> list[int]:
    return [
        i
        for i, text in enumerate(segments)
        if text.strip() and non_translatable_reason(text) is None
    ]


def _has_counterpart(
    fragment: str, at_start: bool, side: Sequence[str], other: Sequence[str]
) -> bool:
    """The other side's line at the same edge is short enough to translate `fragment`:
    at most `_COUNTERPART_SLACK` times the length the document's length ratio predicts."""
    other_kept = _kept_by_shape(other)
    if not other_kept:
        return False
    edge = other[other_kept[0] if at_start else other_kept[-1]].strip()
    side_chars = sum(len(side[i].strip()) for i in _kept_by_shape(side))
    other_chars = sum(len(other[j].strip()) for j in other_kept)
    ratio = other_chars / side_chars if side_chars else 1.0
    return len(edge) <= _COUNTERPART_SLACK * ratio * len(fragment.strip())


def _edge_fragments(
    segments: Sequence[str], kept: list[int], other: Sequence[str] | None
) -> set[int]:
    """Indices of kept lines that are lone short fragments at the document's edge without a
    counterpart on the other side: credits and labels by their place."""
    found: set[int] = set()
    if len(kept) < 2:
        return found  # a one-line document has no edge to sit at
    for at_start, index, inward in ((True, kept[0], kept[1]), (False, kept[-1], kept[-2])):
        if not is_fragment(segments[index]) or is_fragment(segments[inward]):
            continue
        if other is not None and _has_counterpart(segments[index], at_start, segments, other):
            continue
        found.add(index)
    return found


def split_translatable(
    segments: Sequence[str], other: Sequence[str] | None = None
) -> tuple[list[int], list[SkippedLine]]:
    """0-based indices of the translatable segments, and the skipped ones with reasons.

    `other`: the other side of the document (the reference of a source, or the source of
    a reference), when there is one; a short line at one edge is kept if the other side
    has a line at the same edge that could be its translation."""
    reasons = {i: non_translatable_reason(text) for i, text in enumerate(segments)}
    kept = [i for i, reason in reasons.items() if reason is None]
    nonempty = [i for i in kept if segments[i].strip()]
    for i in _edge_fragments(segments, nonempty, other):
        reasons[i] = FRAGMENT
    kept = [i for i, reason in reasons.items() if reason is None]
    skipped = [
        SkippedLine(i + 1, segments[i], reason)
        for i, reason in reasons.items()
        if reason is not None
    ]
    return kept, skipped
