"""The metric interface: per-segment sufficient statistics first, scores from statistics.

Keeping statistics per segment (as sacrebleu does) means a corpus score, a document score
and every bootstrap resample are all sums over the same rows, with no re-tokenising.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

Stats = list[float]


class Metric(ABC):
    """One metric. Subclasses set the class attributes and implement the three methods."""

    name: str = ""
    #: False for reference-free metrics (quality estimation, diagnostics)
    needs_reference: bool = True
    higher_is_better: bool = True

    @abstractmethod
    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        """One list of numbers per segment, from which any aggregate can be computed."""

    @abstractmethod
    def corpus_score(self, stats: Sequence[Stats]) -> float:
        """The score of a set of segments, from their statistics."""

    @abstractmethod
    def segment_score(self, stats: Stats) -> float:
        """The score of one segment, from its statistics."""

    @abstractmethod
    def signature(self) -> str:
        """Everything that makes this number comparable to another one, as one string."""
