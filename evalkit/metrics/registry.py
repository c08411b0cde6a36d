"""Metrics by spec (`--metric bleu --metric comet:PATH`), through the one registry.

Built-ins are listed by module path and imported on first use; a package adds a metric
with an `evalkit.metrics` entry point (see evalkit.registry). Every metric is built from
the test set's languages (`MetricContext`), which the language-aware ones read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from evalkit.metrics.base import Metric, MetricContext, MetricUnavailable
from evalkit.registry import Registry, parse_spec

if TYPE_CHECKING:
    from evalkit.corpus.model import TestSet

METRICS: Registry[Metric] = Registry(
    "metric",
    "evalkit.metrics",
    {
        "bleu": "evalkit.metrics.lexical:Bleu",
        "chrf": "evalkit.metrics.lexical:Chrf",
        "chrf++": "evalkit.metrics.lexical:ChrfPlusPlus",
        "ter": "evalkit.metrics.lexical:Ter",
        "bertscore": "evalkit.metrics.bertscore:BERTScore",
        "comet": "evalkit.metrics.comet:Comet",
        "cometkiwi": "evalkit.metrics.comet:CometKiwi",
        "xcomet": "evalkit.metrics.comet:XComet",
        "xqe": "evalkit.metrics.xqe:CrossLingualQE",
        "off_target": "evalkit.metrics.diagnostics.language:OffTarget",
        "untranslated": "evalkit.metrics.diagnostics.scripts:Untranslated",
        "numbers": "evalkit.metrics.diagnostics.numbers:NumberMismatch",
        "length_outlier": "evalkit.metrics.diagnostics.length:LengthOutlier",
        "repetition": "evalkit.metrics.diagnostics.repetition:Repetition",
        "llm-judge": "evalkit.metrics.llm_judge:LLMJudge",
    },
)


DEFAULT_METRICS = (
    "bleu",
    "chrf",
    "chrf++",
    "ter",
    "bertscore",
    "xqe",
    "off_target",
    "untranslated",
    "numbers",
    "length_outlier",
    "repetition",
)


def metric_names() -> list[str]:
    return METRICS.names()


def metric_context(test_set: TestSet) -> MetricContext:
    """The languages of a test set, as metrics see them."""
    sources = tuple(dict.fromkeys(doc.source.lang for doc in test_set.documents))
    return MetricContext(tgt_lang=test_set.tgt_lang, src_langs=sources)


def create_metrics(
    specs: Sequence[str] | None = None, context: MetricContext | None = None
) -> list[Metric]:
    """Build the metrics the specs name (all defaults when none are named), checking every
    spec before building any."""
    chosen = [parse_spec(spec) for spec in dict.fromkeys(specs or DEFAULT_METRICS)]
    for spec in chosen:
        METRICS.get(spec.name)  # an unknown name fails before anything is built
    return [METRICS.create(spec, context) for spec in chosen]


def available_metrics(
    metrics: Sequence[Metric], has_source: bool = True
) -> tuple[list[Metric], list[MetricUnavailable]]:
    """The metrics that can run here, and why each of the others cannot.

    `has_source` is False when the test set has no source text (`score` without `--src`).
    """
    ready: list[Metric] = []
    skipped: list[MetricUnavailable] = []
    for metric in metrics:
        try:
            if metric.needs_source and not has_source:
                raise MetricUnavailable(metric.name, "it reads the source text: give --src")
            metric.check_available()
        except MetricUnavailable as reason:
            skipped.append(reason)
        else:
            ready.append(metric)
    return ready, skipped
