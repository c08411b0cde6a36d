"""`evalkit judgments export|import`: human judgments in and out of the store as JSONL,
and WMT's MQM TSV in."""

from __future__ import annotations

from evalkit.cli.common import app  # noqa: F401  (commands are registered on it)
