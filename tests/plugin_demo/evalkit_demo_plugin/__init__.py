"""A plugin package as a third party would write one: an engine and a metric, found by
evalkit through entry points, with no change to evalkit."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from evalkit.engines import TranslationEngine
from evalkit.metrics import Metric


class ReverseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: put this before every output
    prefix: str = ""


class ReverseWords(TranslationEngine):
    """ "Translates" by reversing the order of the words."""

    Options = ReverseOptions

    def fingerprint(self) -> dict:
        return {"kind": self.kind, "options": self.options.model_dump()}

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return [self.options.prefix + " ".join(s.split()[::-1]) for s in segments]


class LengthRatio(Metric):
    """Characters of the hypothesis per character of the reference; corpus: the ratio of
    the sums."""

    name = "length_ratio"
    higher_is_better = False

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[list[float]]:
        assert references is not None
        return [[len(h), len(r)] for h, r in zip(hypotheses, references, strict=True)]

    def corpus_score(self, stats: Sequence[list[float]]) -> float:
        return sum(s[0] for s in stats) / max(sum(s[1] for s in stats), 1)

    def segment_score(self, stats: list[float]) -> float:
        return stats[0] / max(stats[1], 1)

    def signature(self) -> str:
        return "length_ratio|chars|v1"
