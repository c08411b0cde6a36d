"""`evalkit meta`: how well each stored metric agrees with the human judgments of a run."""

from __future__ import annotations

from evalkit.cli.common import app  # noqa: F401  (commands are registered on it)
