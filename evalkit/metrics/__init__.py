"""Metrics behind one interface, created by name."""

from evalkit.metrics.base import Metric, MetricContext, MetricUnavailable
from evalkit.metrics.registry import (
    DEFAULT_METRICS,
    available_metrics,
    create_metrics,
    metric_context,
    metric_names,
)

__all__ = [
    "DEFAULT_METRICS",
    "Metric",
    "MetricContext",
    "MetricUnavailable",
    "available_metrics",
    "create_metrics",
    "metric_context",
    "metric_names",
]
