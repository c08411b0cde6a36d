"""One unit's translation as engines return it and the translation cache stores it.

A module of its own, depending on nothing, so that the cache (which stores translations)
and the engines (which make them) share the type without the cache depending on engines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Translation:
    """One unit's translation, and whether the generation cap cut it off."""

    text: str
    truncated: bool = False
