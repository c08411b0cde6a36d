"""Metrics by name (`--metric bleu --metric chrf`).

Factories take the `MetricContext` (target and source languages of the test set), which
the language-aware diagnostics need; the others ignore it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from evalkit.errors import UserInputError
from evalkit.metrics import diagnostics, lexical
from evalkit.metrics.base import Metric, MetricContext, MetricUnavailable
from evalkit.metrics.bertscore import BERTScore
from evalkit.metrics.comet import Comet
from evalkit.metrics.xqe import CrossLingualQE

if TYPE_CHECKING:
    from evalkit.corpus.model import TestSet

_FACTORIES: dict[str, Callable[[MetricContext], Metric]] = {
    "bleu": lambda _: lexical.bleu(),
    "chrf": lambda _: lexical.chrf(),
    "chrf++": lambda _: lexical.chrf_plus_plus(),
    "ter": lambda _: lexical.ter(),
    "bertscore": BERTScore,
    "comet": lambda _: Comet(),
    "xqe": lambda _: CrossLingualQE(),
    "off_target": diagnostics.OffTarget,
    "untranslated": diagnostics.Untranslated,
    "numbers": diagnostics.NumberMismatch,
    "length_outlier": lambda _: diagnostics.LengthOutlier(),
    "repetition": lambda _: diagnostics.Repetition(),
}

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
    return list(_FACTORIES)


def metric_context(test_set: TestSet) -> MetricContext:
    """The languages of a test set, as metrics see them."""
    sources = tuple(dict.fromkeys(doc.source.lang for doc in test_set.documents))
    return MetricContext(tgt_lang=test_set.tgt_lang, src_langs=sources)


def create_metrics(
    names: Sequence[str] | None = None, context: MetricContext | None = None
) -> list[Metric]:
    """Build the named metrics (all defaults when none are named), rejecting unknown names."""
    chosen = list(dict.fromkeys(names or DEFAULT_METRICS))
    unknown = [name for name in chosen if name not in _FACTORIES]
    if unknown:
        raise UserInputError(f"unknown metric {unknown[0]!r} (known: {', '.join(_FACTORIES)})")
    return [_FACTORIES[name](context or MetricContext()) for name in chosen]


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
