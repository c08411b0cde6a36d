"""`evalkit rescore`: score a stored run again with more metrics, without translating again."""

from __future__ import annotations

from evalkit.cli.common import app  # noqa: F401  (commands are registered on it)
