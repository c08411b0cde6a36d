"""`copy`: returns the source unchanged. The floor every comparison should include: a
metric that scores `copy` well is measuring overlap of names and numbers, not translation."""

from __future__ import annotations

from typing import Any

from evalkit.engines.base import TranslationEngine
from evalkit.engines.registry import register
from evalkit.errors import UserInputError


@register("copy")
class CopyEngine(TranslationEngine):
    summary = "returns the source unchanged: the floor every comparison should include"

    def __init__(self, argument: str | None, options=None) -> None:
        if argument:
            raise UserInputError(f"the copy system takes no argument (got {argument!r})")
        super().__init__(argument, options)

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "copy", "version": 1}

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return list(segments)
