"""The metric interface: per-segment sufficient statistics first, scores from statistics.

Keeping statistics per segment (as sacrebleu does) means a corpus score, a document score
and every bootstrap resample are all sums over the same rows, with no re-tokenising.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from evalkit.errors import UserInputError

Stats = list[float]


class MetricUnavailable(Exception):
    """A metric that cannot run here (a missing extra, a model not on disk).

    The message is one line saying how to enable it; the run skips the metric, says so
    in its notes and carries on.
    """

    def __init__(self, metric: str, how: str) -> None:
        self.metric = metric
        self.how = how
        super().__init__(f"metric {metric!r} skipped: {how}")


@dataclass(frozen=True)
class MetricContext:
    """What metrics may know about the test set: its target and source languages.

    Languages are ISO 639-1 codes as in the manifest (`en`, `ar`).
    """

    tgt_lang: str = "en"
    src_langs: tuple[str, ...] = ()


class Metric(ABC):
    """One metric. Subclasses set the class attributes and implement the three methods."""

    name: str = ""
    #: False for reference-free metrics (quality estimation, diagnostics)
    needs_reference: bool = True
    #: True for metrics that read the source text (skipped when a test set has none)
    needs_source: bool = False
    higher_is_better: bool = True
    #: True when a segment's statistics depend on its own texts alone, so they can be
    #: stored and reused by (signature, hypothesis, reference, source); False for metrics
    #: that look at the whole set (a band fitted to every segment's length ratio)
    per_segment: bool = True

    def check_available(self) -> None:  # noqa: B027 - optional hook, most metrics always run
        """Raise `MetricUnavailable` if this metric cannot run here. Cheap: loads no model."""

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


class MeanMetric(Metric):
    """A metric whose segment score is the first statistic and whose corpus score is the mean.

    Further statistics per segment are details kept for inspection (precision and recall
    beside an F1, missing and added numbers beside a mismatch flag).
    """

    def corpus_score(self, stats: Sequence[Stats]) -> float:
        return sum(row[0] for row in stats) / len(stats)

    def segment_score(self, stats: Stats) -> float:
        return stats[0]


def positive_int_from_env(variable: str) -> int | None:
    """A positive integer setting from the environment; None when unset."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise UserInputError(f"{variable} must be a positive integer, not {value!r}")
    return int(value)
