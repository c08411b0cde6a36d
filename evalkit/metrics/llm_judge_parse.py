"""Reading an LLM judge's replies: error spans, a 0-100 score, and where each span lies.

Small models rarely answer in exactly the asked format, and a judge that guesses a score
from a rambling reply is worse than none. So the grammar below is lenient about markup
and strict about meaning; a reply it cannot read is *unparseable*: the segment gets no
score, and the run counts and flags it.

Spans reply (step 1), read line by line:

    heading   = [markup] SEVERITY [" error" ["s"]] [markup] ":" [rest]
    item      = [bullet] [category] (" - " | ": " | " – ") QUOTED [anything]
    no-error  = "no-error" | "no error" | "no errors" | "none"   (markup and "." ignored)

- SEVERITY is `major`, `minor` or `critical` (any case); ESA has two severities, so
  `critical` counts as major. A heading sets the severity of the items under it; text
  after its colon is read as an item (`Major: no-error`, `Minor: grammar - "x"`).
- An item is a line with a QUOTED text: between "", “”, «», `` or '' (non-empty, first
  quote of the line only: a second one is usually the source words). A severity word on
  the item line itself, before the quote (`major accuracy - "x"`, `accuracy (minor) -
  "x"`), wins over the heading.
- Lines before the first heading that carry no severity of their own are preamble and
  ignored ("Here are the errors in "the text":").
- The reply is parsed when it has a heading, an item with its own severity, or is only a
  no-error statement. Anything else (a translation, an apology, an empty reply) is not.

Score reply (step 2): the number after the word "score" when there is one, else the
first number (a number glued to a letter, as in `1e3` or `3rd`, is none); `N/100`,
`N/10` and `N/5` are scaled to 0-100 and `N%` is N. A restated
range ("0-100", "0 to 100") is not a score. Unparseable: no number, or one outside
0-100.

`locate` maps each quoted text to character offsets in the hypothesis: exact match first,
then ignoring case, then without surrounding punctuation; a repeated quote takes the
next occurrence. Texts found nowhere (the model quoted the source, or paraphrased) are
counted, never placed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: bump when a change here can read a reply differently (it is in the signature)
PARSER_VERSION = 1

SEVERITIES = ("minor", "major")
_SEVERITY_WORD = r"(critical|major|minor)"
_MARKUP = r"[\s*#_>\-•]*"
_HEADING = re.compile(
    rf"^{_MARKUP}{_SEVERITY_WORD}(?:\s+errors?)?{_MARKUP}:{_MARKUP}(.*)$", re.IGNORECASE
)
_QUOTES = (('"', '"'), ("“", "”"), ("«", "»"), ("`", "`"), ("'", "'"), ("„", "“"))
_NO_ERROR = re.compile(r"^[\s*#_>\-•.]*(no[- ]errors?|none)[\s*_.!]*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_INLINE_SEVERITY = re.compile(rf"\b{_SEVERITY_WORD}\b", re.IGNORECASE)
_CATEGORY_END = re.compile(r"\s*(?:\s-\s|:\s|\s–\s|\s—\s)\s*$")


@dataclass(frozen=True)
class FoundError:
    severity: str  # "major" or "minor"
    category: str
    text: str  # as the judge quoted it


@dataclass(frozen=True)
class SpansReply:
    parsed: bool
    errors: tuple[FoundError, ...] = ()


def _severity(word: str) -> str:
    return "minor" if word.lower() == "minor" else "major"  # critical counts as major


def _first_quote(line: str) -> tuple[int, str] | None:
    """(where the quote opens, the quoted text) of the first non-empty quote in `line`."""
    best: tuple[int, str] | None = None
    for left, right in _QUOTES:
        start = line.find(left)
        while start != -1:
            end = line.find(right, start + 1)
            if end == -1:
                break
            text = line[start + 1 : end].strip()
            if text and (left != "'" or _is_quote_apostrophe(line, start, end)):
                if best is None or start < best[0]:
                    best = (start, text)
                break
            start = line.find(left, end + 1)
    return best


def _is_quote_apostrophe(line: str, start: int, end: int) -> bool:
    """A '...' pair is a quote, not two apostrophes ("don't ... it's"): the opening one
    does not follow a letter and the closing one is not followed by one."""
    before = line[start - 1] if start else " "
    after = line[end + 1] if end + 1 < len(line) else " "
    return not before.isalnum() and not after.isalnum()


def _item(line: str, heading: str | None) -> FoundError | None:
    quote = _first_quote(line)
    if quote is None:
        return None
    start, text = quote
    head = _BULLET.sub("", line[:start])
    inline = _INLINE_SEVERITY.search(head)
    if inline is not None:
        severity = _severity(inline.group(1))
        head = (head[: inline.start()] + head[inline.end() :]).replace("()", "")
    elif heading is not None:
        severity = heading
    else:
        return None  # preamble: no severity of its own, before any heading
    category = _CATEGORY_END.sub("", head).strip(" -–—:*()[]").strip()
    return FoundError(severity, category, text)


def parse_spans(reply: str) -> SpansReply:
    """The errors a step-1 reply lists (see the module docstring for the grammar)."""
    heading: str | None = None
    seen_heading = False
    errors: list[FoundError] = []
    other_text = False
    for raw in reply.splitlines():
        line = raw.strip()
        if not line:
            continue
        found = _HEADING.match(line)
        if found is not None:
            heading, seen_heading = _severity(found.group(1)), True
            line = found.group(2).strip()
            if not line:
                continue
        if _NO_ERROR.match(line):
            continue
        item = _item(line, heading)
        if item is not None:
            errors.append(item)
        else:
            other_text = True
    if seen_heading or any(errors):
        return SpansReply(True, tuple(errors))
    only_no_error = bool(reply.strip()) and not other_text
    return SpansReply(only_no_error)


_RANGE = re.compile(r"\(?\s*\b0\s*(?:-|–|to)\s*100\b\s*\)?", re.IGNORECASE)
_NUMBER = r"(?<![\w.\-])(\d+(?:\.\d+)?)(?!\w)(?:\s*/\s*(100|10|5)\b)?"
_AFTER_SCORE = re.compile(rf"score\b[^0-9\n]{{0,20}}?{_NUMBER}", re.IGNORECASE)
_ANY_NUMBER = re.compile(_NUMBER)


def parse_score(reply: str) -> float | None:
    """The 0-100 score a step-2 reply gives; None when it gives none (see the grammar)."""
    text = _RANGE.sub(" ", reply)
    found = _AFTER_SCORE.search(text) or _ANY_NUMBER.search(text)
    if found is None:
        return None
    value = float(found.group(1))
    scale = found.group(2)
    if scale is not None:
        value *= 100 / float(scale)
    return value if 0 <= value <= 100 else None


@dataclass(frozen=True)
class PlacedError:
    start: int
    end: int
    severity: str
    text: str


def locate(errors: Sequence[FoundError], hypothesis: str) -> tuple[list[PlacedError], int]:
    """Character offsets of each quoted text in the hypothesis, and how many were found
    nowhere."""
    placed: list[PlacedError] = []
    missing = 0
    next_from: dict[str, int] = {}
    lowered = hypothesis.lower()
    same_length = len(lowered) == len(hypothesis)
    for error in errors:
        span = None
        for needle in dict.fromkeys((error.text, error.text.strip(" .,;:!?\"'"))):
            if not needle:
                continue
            begin = next_from.get(needle, 0)
            at = hypothesis.find(needle, begin)
            if at == -1 and same_length:
                at = lowered.find(needle.lower(), begin)
            if at != -1:
                span = (at, at + len(needle))
                next_from[needle] = at + len(needle)
                break
        if span is None:
            missing += 1
            continue
        start, end = span
        placed.append(PlacedError(start, end, error.severity, hypothesis[start:end]))
    return placed, missing
