"""Metrics by name (`--metric bleu --metric chrf`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evalkit.errors import UserInputError
from evalkit.metrics import lexical
from evalkit.metrics.base import Metric

_FACTORIES: dict[str, Callable[[], Metric]] = {
    "bleu": lexical.bleu,
    "chrf": lexical.chrf,
    "chrf++": lexical.chrf_plus_plus,
    "ter": lexical.ter,
}

DEFAULT_METRICS = ("bleu", "chrf", "chrf++", "ter")


def metric_names() -> list[str]:
    return list(_FACTORIES)


def create_metrics(names: Sequence[str] | None = None) -> list[Metric]:
    """Build the named metrics (all defaults when none are named), rejecting unknown names."""
    chosen = list(dict.fromkeys(names or DEFAULT_METRICS))
    unknown = [name for name in chosen if name not in _FACTORIES]
    if unknown:
        raise UserInputError(f"unknown metric {unknown[0]!r} (known: {', '.join(_FACTORIES)})")
    return [_FACTORIES[name]() for name in chosen]
