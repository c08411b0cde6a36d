"""Writing systems of text, and the `untranslated` diagnostic built on them.

A letter's script is the first word of its Unicode name (`ARABIC LETTER ALEF` → ARABIC,
`LATIN SMALL LETTER A` → LATIN, `CJK UNIFIED IDEOGRAPH-4E00` → CJK), which needs no table
and covers every script Unicode names this way.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from evalkit.metrics.base import LanguageAware, MeanMetric, MetricContext, Stats

#: scripts a language is written in; languages not listed are taken to be written in Latin
_SCRIPTS_OF_LANGUAGE: dict[str, frozenset[str]] = {
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ug", "ckb", "sd"), frozenset({"ARABIC"})),
    "he": frozenset({"HEBREW"}),
    "yi": frozenset({"HEBREW"}),
    **dict.fromkeys(
        ("ru", "uk", "be", "bg", "mk", "kk", "ky", "mn", "tg"), frozenset({"CYRILLIC"})
    ),
    "sr": frozenset({"CYRILLIC", "LATIN"}),
    "el": frozenset({"GREEK"}),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), frozenset({"DEVANAGARI"})),
    "bn": frozenset({"BENGALI"}),
    "pa": frozenset({"GURMUKHI"}),
    "gu": frozenset({"GUJARATI"}),
    "ta": frozenset({"TAMIL"}),
    "te": frozenset({"TELUGU"}),
    "kn": frozenset({"KANNADA"}),
    "ml": frozenset({"MALAYALAM"}),
    "si": frozenset({"SINHALA"}),
    "th": frozenset({"THAI"}),
    "lo": frozenset({"LAO"}),
    "km": frozenset({"KHMER"}),
    "my": frozenset({"MYANMAR"}),
    "ka": frozenset({"GEORGIAN"}),
    "hy": frozenset({"ARMENIAN"}),
    "am": frozenset({"ETHIOPIC"}),
    "zh": frozenset({"CJK"}),
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    "ko": frozenset({"HANGUL", "CJK"}),
}

_WORD = re.compile(r"[^\W\d_]{2,}")


def scripts_of_language(lang: str) -> frozenset[str]:
    return _SCRIPTS_OF_LANGUAGE.get(lang.lower().split("-")[0], frozenset({"LATIN"}))


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of each script the text has (digits, punctuation, spaces ignored)."""
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            counts[unicodedata.name(char, "UNKNOWN").split(" ")[0]] += 1
    return counts


def dominant_script(text: str) -> str | None:
    counts = letter_scripts(text)
    return counts.most_common(1)[0][0] if counts else None


class Untranslated(LanguageAware, MeanMetric):
    """Share of the hypothesis left in the source's writing system (0 = none, 1 = all).

    When the source's dominant script is not one the target language is written in (Arabic
    into English), the score is the share of the hypothesis's letters in that script: a
    copied source scores 1, a translation quoting one Arabic name scores near 0. When
    source and target share a script (French into English), scripts cannot tell, and the
    score is the share of hypothesis words (two letters or more, case-folded) that occur in
    the source: a weaker signal that also counts names kept as they are.
    """

    name = "untranslated"
    needs_reference = False
    needs_source = True
    higher_is_better = False

    def __init__(self, context: MetricContext | None = None) -> None:
        self.tgt_lang = (context or MetricContext()).tgt_lang
        self._target_scripts = scripts_of_language(self.tgt_lang)

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        return [[self._share(hyp, src)] for hyp, src in zip(hypotheses, sources, strict=True)]

    def _share(self, hyp: str, src: str) -> float:
        source_script = dominant_script(src)
        if source_script is None:
            return 0.0
        if source_script not in self._target_scripts:
            counts = letter_scripts(hyp)
            total = sum(counts.values())
            return counts[source_script] / total if total else 0.0
        words = [w.casefold() for w in _WORD.findall(hyp)]
        if not words:
            return 0.0
        source_words = {w.casefold() for w in _WORD.findall(src)}
        return sum(w in source_words for w in words) / len(words)

    def signature(self) -> str:
        return (
            f"untranslated|tgt:{self.tgt_lang}|scripts:{'+'.join(sorted(self._target_scripts))}"
            "|score:share of hypothesis letters in the source's dominant script"
            " (copied-word share when both share a script)|corpus:mean"
        )
