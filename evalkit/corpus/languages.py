"""Language codes of test sets, checked against the BCP 47 / ISO 639 registry.

A mistyped code (`arb` is fine, `ar-EN` too, `arabic` or `xx` is not) would otherwise
travel into prompts, language-specific tokenisers and the run record without a word.
"""

from __future__ import annotations

from pathlib import Path

import langcodes

from evalkit.errors import UserInputError


def check_language(code: str, what: str, path: Path | None = None) -> str:
    """Return `code` unchanged when it is a valid language tag; refuse it otherwise."""
    if not langcodes.tag_is_valid(code):
        raise UserInputError(
            f"unknown language code {code!r} for {what}: expected an ISO 639 / BCP 47 tag "
            "such as ar, en, fr, zh-Hant or pt-BR",
            path,
        )
    return code
