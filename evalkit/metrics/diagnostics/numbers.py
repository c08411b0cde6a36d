"""`numbers`: do the numbers of the source reappear in the hypothesis?

Numbers are read from both sides after mapping Arabic-Indic (٠-٩) and Extended
Arabic-Indic (۰-۹) digits to 0-9 and the Arabic thousands (٬) and decimal (٫) separators
to `,` and `.`. A token like `1,234,567` or `1,234.5` uses commas for thousands; one like
`1.234.567` or `1.234,5` uses dots (the European convention); `3.5` and `3,5` are
decimals; anything else with separators (`1,2,3`) is a list of whole numbers. Values are
compared as exact decimals, so `3.50` equals `3.5` and `007` equals `7`. The two sides
are compared as multisets: a number written twice in the source must appear twice.

Into English, a source number from 0 to 12 that the hypothesis spells out ("three") is
not counted as missing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from evalkit.metrics.base import LanguageAware, MeanMetric, MetricContext, Stats

_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬٫",
    "01234567890123456789,.",
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DECIMAL = re.compile(r"\d+[.,]\d+")

_ENGLISH_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
)  # fmt: skip


def _canonical(number: str) -> str:
    try:
        return format(Decimal(number).normalize(), "f")
    except InvalidOperation:  # pragma: no cover - the regexes only let digits through
        return number


def extract_numbers(text: str) -> list[str]:
    """The numbers in a text, as canonical decimal strings, in order."""
    values: list[str] = []
    for token in _NUMBER.findall(text.translate(_DIGITS)):
        if _COMMA_THOUSANDS.fullmatch(token):  # 1,234,567 and 1,234.5
            values.append(_canonical(token.replace(",", "")))
        elif _DOT_THOUSANDS.fullmatch(token) and (token.count(".") > 1 or "," in token):
            # 1.234.567 and 1.234,5 (a single "1.234" is a decimal, as in English)
            values.append(_canonical(token.replace(".", "").replace(",", ".")))
        elif _DECIMAL.fullmatch(token):  # 3.5 and 3,5
            values.append(_canonical(token.replace(",", ".")))
        else:  # 1,2,3 and dates like 2024.03.05
            values.extend(_canonical(part) for part in re.split(r"[.,]", token))
    return values


def compare_numbers(
    source: str, hypothesis: str, tgt_lang: str = "en"
) -> tuple[Counter[str], Counter[str]]:
    """(missing, added): numbers of the source not in the hypothesis, and the reverse."""
    src = Counter(extract_numbers(source))
    hyp = Counter(extract_numbers(hypothesis))
    missing, added = src - hyp, hyp - src
    if tgt_lang == "en" and missing:
        words = Counter(re.findall(r"[a-z]+", hypothesis.lower()))
        for value in list(missing):
            if value.isdigit() and int(value) < len(_ENGLISH_WORDS):
                spelled = min(missing[value], words[_ENGLISH_WORDS[int(value)]])
                missing[value] -= spelled
        missing = +missing
    return missing, added


class NumberMismatch(LanguageAware, MeanMetric):
    """1 for a segment whose numbers differ from the source's (missing or added), else 0.

    The statistics keep how many numbers are missing and added; the corpus score is the
    rate of segments with a mismatch.
    """

    name = "numbers"
    needs_reference = False
    needs_source = True
    higher_is_better = False

    def __init__(self, context: MetricContext | None = None) -> None:
        self.tgt_lang = (context or MetricContext()).tgt_lang

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        stats = []
        for hyp, src in zip(hypotheses, sources, strict=True):
            missing, added = compare_numbers(src, hyp, self.tgt_lang)
            n_missing, n_added = sum(missing.values()), sum(added.values())
            stats.append([float(n_missing + n_added > 0), float(n_missing), float(n_added)])
        return stats

    def signature(self) -> str:
        return (
            f"numbers|tgt:{self.tgt_lang}|digits:western+arabic-indic|multiset"
            f"|spelled-out 0-12:{'yes' if self.tgt_lang == 'en' else 'no'}|corpus:rate"
        )
