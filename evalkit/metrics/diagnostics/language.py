"""`off_target`: is the hypothesis in the target language at all?

Language identification by lingua (its models ship inside the wheel). The detector is
built once per process from a restricted set of languages: the target, the sources, and
a handful of languages MT systems commonly drift into. Restricting the candidates makes
loading and detection several times faster, and more accurate on short segments, since
lingua then only has to tell apart languages that can plausibly occur (with all 75
languages, a short English headline is easily taken for Dutch or Latin).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from evalkit.metrics.base import LanguageAware, MeanMetric, MetricContext, MetricUnavailable, Stats
from evalkit.metrics.diagnostics.scripts import letter_scripts, scripts_of_language

#: languages outputs often drift into (pivot languages, neighbours of Arabic, big MT pairs)
COMMON_LANGUAGES = (
    "en", "ar", "fr", "de", "es", "it", "pt", "nl", "ru", "tr", "fa", "ur", "he", "hi",
    "zh", "ja", "ko",
)  # fmt: skip

#: below this many letters statistical identification is unreliable; only the script counts
MIN_LETTERS = 20


def _language(code: str) -> Any:
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.lower().split("-")[0]))
    except (ValueError, AttributeError):
        return None


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> Any:
    from lingua import LanguageDetectorBuilder

    languages = [lang for lang in (_language(code) for code in codes) if lang is not None]
    return LanguageDetectorBuilder.from_languages(*dict.fromkeys(languages)).build()


def detect_language(text: str, codes: Sequence[str] = COMMON_LANGUAGES) -> str | None:
    """ISO 639-1 code of the text's language among `codes`, or None when lingua cannot
    tell. The detector for a set of codes is built once per process."""
    found = _detector(tuple(codes)).detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None


class OffTarget(LanguageAware, MeanMetric):
    """1 for a segment whose hypothesis is not in the target language, else 0.

    Segments with fewer than MIN_LETTERS letters are judged by script alone (off target
    only if most letters are in a script the target language is not written in); segments
    without letters, or that lingua cannot decide, count as on target: the diagnostic
    flags only what it can tell. The corpus score is the rate of off-target segments.
    """

    name = "off_target"
    needs_reference = False
    higher_is_better = False

    def __init__(self, context: MetricContext | None = None) -> None:
        context = context or MetricContext()
        self.tgt_lang = context.tgt_lang
        self.languages = tuple(
            dict.fromkeys((context.tgt_lang, *context.src_langs, *COMMON_LANGUAGES))
        )
        self._target_scripts = scripts_of_language(self.tgt_lang)

    def check_available(self) -> None:
        if _language(self.tgt_lang) is None:
            raise MetricUnavailable(
                self.name, f"lingua cannot identify the target language {self.tgt_lang!r}"
            )

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        return [[self._off_target(hyp)] for hyp in hypotheses]

    def _off_target(self, hyp: str) -> float:
        counts = letter_scripts(hyp)
        letters = sum(counts.values())
        if letters == 0:
            return 0.0
        if letters < MIN_LETTERS:
            return float(counts.most_common(1)[0][0] not in self._target_scripts)
        found = _detector(self.languages).detect_language_of(hyp)
        if found is None:
            return 0.0
        return float(found != _language(self.tgt_lang))

    def signature(self) -> str:
        from importlib.metadata import version

        return (
            f"off_target|tgt:{self.tgt_lang}|lingua-{version('lingua-language-detector')}"
            f"|candidates:{','.join(self.languages)}|min_letters:{MIN_LETTERS}|corpus:rate"
        )
