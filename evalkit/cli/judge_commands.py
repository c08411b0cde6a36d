"""`evalkit judge`: the local judging page for a stored run."""

from __future__ import annotations

from evalkit.cli.common import app  # noqa: F401  (commands are registered on it)
