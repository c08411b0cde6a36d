"""The metric interface: per-segment sufficient statistics first, scores from statistics.

Keeping statistics per segment (as sacrebleu does) means a corpus score, a document score
and every bootstrap resample are all sums over the same rows, with no re-tokenising.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel

from evalkit.errors import UserInputError
from evalkit.registry import Build, Languages, NoOptions

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


#: what metrics may know about the test set: its target and source languages (the one
#: context every registered engine and metric is built with)
MetricContext = Languages


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
    #: how significance tests resample it: "statistics" (sum the segments' statistics and
    #: score the sums, as sacrebleu does for BLEU, chrF and TER; needs `scores_of_sums`) or
    #: "segment_scores" (the mean of segment scores)
    resampling: ClassVar[Literal["statistics", "segment_scores"]] = "segment_scores"
    #: the `KEY=VALUE` options of its spec (`--metric NAME[:ARG][,KEY=VALUE...]`)
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: how a segment with several references is scored, named in the signature whenever
    #: a segment has more than one: "all" (the metric reads them all at once, as sacrebleu
    #: does for BLEU, chrF and TER), "best" (the reference that scores best, as
    #: bert-score does) or "mean" (the mean of the scores against each, as COMET's
    #: maintainers advise)
    multi_reference: ClassVar[Literal["all", "best", "mean"]] = "best"
    #: references per segment: 1, N, or -1 when the number varies by segment (sacrebleu's
    #: `nrefs:var`); set by `count_references` before scoring, as signatures name it
    reference_count: int = 1

    @classmethod
    def build(cls, build: Build) -> Metric:
        """The metric a spec names. The default takes no argument and no languages;
        metrics that do override this."""
        if build.argument:
            raise UserInputError(f"metric {cls.name!r} takes no argument ({build.argument!r})")
        return cls()

    def segment_spans(self, stats: Stats, hypothesis: str) -> list[dict[str, object]] | None:
        """Error spans the metric found in one segment's hypothesis (`start`, `end`,
        `severity`, `confidence`, `text`), kept in the run and shown in the report; None
        for metrics that mark no spans."""
        return None

    def scores_of_sums(self, sums: np.ndarray) -> np.ndarray:
        """Scores of summed statistics, one per row (for `resampling = "statistics"`)."""
        raise NotImplementedError(f"{self.name} resamples segment scores")

    def check_available(self) -> None:  # noqa: B027 - optional hook, most metrics always run
        """Raise `MetricUnavailable` if this metric cannot run here. Cheap: loads no model."""

    def count_references(self, counts: Iterable[int]) -> None:
        """Record how many references the segments to score have (0 for none), so that
        the signature says it. One reference per segment leaves signatures as they were."""
        distinct = set(counts) - {0}
        if len(distinct) > 1:
            self.reference_count = -1
        else:
            self.reference_count = distinct.pop() if distinct else 1

    def references_signature(self) -> str:
        """The signature's note on references: empty with one per segment, else the
        count and the rule (`|nrefs:2|refs:best`)."""
        if not self.needs_reference or self.reference_count == 1:
            return ""
        count = "var" if self.reference_count < 0 else str(self.reference_count)
        return f"|nrefs:{count}|refs:{self.multi_reference}"

    def multi_reference_statistics(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str],
    ) -> list[Stats]:
        """Statistics of segments with one or more references each (`references[i]`).

        The default scores every (hypothesis, reference) pair in one call and keeps, per
        segment, what `multi_reference` says; metrics that read every reference at once
        ("all") override this."""
        owner = [i for i, refs in enumerate(references) for _ in refs]
        flat = self.segment_statistics(
            [hypotheses[i] for i in owner],
            [ref for refs in references for ref in refs],
            [sources[i] for i in owner],
        )
        grouped: list[list[Stats]] = [[] for _ in hypotheses]
        for i, row in zip(owner, flat, strict=True):
            grouped[i].append(row)
        return [self.combine_references(rows) for rows in grouped]

    def combine_references(self, rows: Sequence[Stats]) -> Stats:
        """One segment's statistics from its statistics against each reference: the best
        one's ("best"), or the first one's with its score replaced by the mean ("mean":
        further statistics, such as error spans, stay those of the first reference)."""
        if self.multi_reference == "mean":
            return [sum(row[0] for row in rows) / len(rows), *rows[0][1:]]
        if self.multi_reference != "best":
            raise NotImplementedError(f"{self.name} reads every reference itself")
        pick = max if self.higher_is_better else min
        return list(pick(rows, key=self.segment_score))

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


class LanguageAware:
    """A metric built with the test set's languages (its constructor's first argument)."""

    @classmethod
    def build(cls, build: Build) -> Metric:
        if build.argument:
            raise UserInputError(f"metric {cls.__name__} takes no argument ({build.argument!r})")
        return cls(build.languages)  # type: ignore[call-arg]


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
