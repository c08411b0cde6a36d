"""Metrics behind one interface, created by name."""

from evalkit.metrics.base import Metric
from evalkit.metrics.registry import DEFAULT_METRICS, create_metrics, metric_names

__all__ = ["DEFAULT_METRICS", "Metric", "create_metrics", "metric_names"]
