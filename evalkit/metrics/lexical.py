"""BLEU, chrF, chrF++ and TER through sacrebleu: the same numbers as the sacrebleu CLI.

TER's per-segment edit counts come from `evalkit.metrics.fast_ter`, a compiled copy of
sacrebleu's search (identical counts, many times faster on paragraphs and documents);
its tokenisation, signature, aggregation and scores are sacrebleu's.

sacrebleu exposes per-segment statistics through `_extract_corpus_statistics` and scores
from them through `_aggregate_and_compute` (its own significance tests use them too);
this module is the only one that calls them.
Segment-level BLEU uses effective order, as sacrebleu recommends for single sentences;
the signature shown is the corpus-level one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.metrics.base import Metric as SacreMetric

from evalkit.metrics.base import Metric, Stats
from evalkit.metrics.fast_ter import FastTER


class SacrebleuMetric(Metric):
    #: resampled as sacrebleu resamples: sums of segment statistics, scored
    resampling = "statistics"

    def __init__(
        self,
        name: str,
        make: Callable[[], SacreMetric],
        make_segment: Callable[[], SacreMetric] | None = None,
        higher_is_better: bool = True,
    ) -> None:
        self.name = name
        self.higher_is_better = higher_is_better
        self._corpus = make()
        self._segment = (make_segment or make)()

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        if references is None:
            raise ValueError(f"{self.name} needs references")
        stats = self._corpus._extract_corpus_statistics(list(hypotheses), [list(references)])
        return [list(row) for row in stats]

    def corpus_score(self, stats: Sequence[Stats]) -> float:
        return float(self._corpus._aggregate_and_compute([list(row) for row in stats]).score)

    def segment_score(self, stats: Stats) -> float:
        return float(self._segment._compute_score_from_stats(list(stats)).score)

    def scores_of_sums(self, sums: np.ndarray) -> np.ndarray:
        return np.array([self._corpus._compute_score_from_stats(row).score for row in sums])

    def signature(self) -> str:
        if getattr(self._corpus, "num_refs", 0) == 0:
            self._corpus.num_refs = 1  # resolved when references are read; one ref per segment
        return str(self._corpus.get_signature().format())


class Bleu(SacrebleuMetric):
    name = "bleu"

    def __init__(self) -> None:
        super().__init__(self.name, BLEU, lambda: BLEU(effective_order=True))


class Chrf(SacrebleuMetric):
    name = "chrf"

    def __init__(self) -> None:
        super().__init__(self.name, CHRF)


class ChrfPlusPlus(SacrebleuMetric):
    name = "chrf++"

    def __init__(self) -> None:
        super().__init__(self.name, lambda: CHRF(word_order=2))


class Ter(SacrebleuMetric):
    name = "ter"

    def __init__(self) -> None:
        super().__init__(self.name, FastTER, higher_is_better=False)
