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
    #: several references go to sacrebleu together: BLEU counts n-gram matches against
    #: the most generous reference and takes the closest length, chrF keeps the
    #: best-scoring reference, TER the fewest edits over the mean reference length
    multi_reference = "all"

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
        return self.multi_reference_statistics(hypotheses, [[r] for r in references], sources)

    def multi_reference_statistics(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str],
    ) -> list[Stats]:
        """sacrebleu's statistics with every reference of each segment: references are
        passed as sacrebleu takes them, one stream per translator, None where a segment
        has fewer (sacrebleu's variable number of references)."""
        width = max((len(refs) for refs in references), default=1)
        streams = [
            [refs[k] if k < len(refs) else None for refs in references] for k in range(width)
        ]
        # (sacrebleu sets num_refs from this batch alone: `signature` sets it again)
        stats = self._corpus._extract_corpus_statistics(list(hypotheses), streams)
        return [list(row) for row in stats]

    def corpus_score(self, stats: Sequence[Stats]) -> float:
        return float(self._corpus._aggregate_and_compute([list(row) for row in stats]).score)

    def segment_score(self, stats: Stats) -> float:
        return float(self._segment._compute_score_from_stats(list(stats)).score)

    def scores_of_sums(self, sums: np.ndarray) -> np.ndarray:
        return np.array([self._corpus._compute_score_from_stats(row).score for row in sums])

    def signature(self) -> str:
        # sacrebleu's nrefs: a number, or "var" when segments have different numbers
        self._corpus.num_refs = self.reference_count
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
