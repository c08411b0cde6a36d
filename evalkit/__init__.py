"""evalkit: translate test sets with several systems, score them, store and compare runs.

    import evalkit
    run = evalkit.evaluate("seeds", ["copy"], ["bleu", "chrf"])

`evaluate`, `score` and `rescore` are `evalkit.api`'s (see there for the rest of the API);
they are imported on first use, so `import evalkit` stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "rescore", "score"]


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "score", "rescore"):
        from evalkit import api

        return getattr(api, name)
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
