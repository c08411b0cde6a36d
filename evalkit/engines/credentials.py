"""Keep secrets out of system specs.

A spec is written into every run record (`spec`, `command`), shown in tables and error
messages, and shared with the results. API keys therefore come only from an environment
variable that the spec names (`api_key_env=NAME`), and a spec that carries something
that looks like a credential is refused, with a message that does not repeat it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from evalkit.errors import UserInputError

#: option names that would hold a secret itself (api_key_env names a variable: allowed)
_SECRET_NAMES = re.compile(
    r"^(?:api[_-]?key|key|token|access[_-]?token|auth|authorization|password|passwd|secret"
    r"|bearer|[a-z_]*_(?:key|token|secret|password))$",
    re.IGNORECASE,
)
#: shapes of common API keys and tokens
_SECRET_VALUES = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-]{16,}|\bhf_[A-Za-z0-9]{20,}|\bAKIA[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abpr]-[A-Za-z0-9\-]{10,}|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\bBearer\s+\S+)"
)
#: a URL with user:password@ (or token@) before the host
_URL_USERINFO = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^/@\s]+@")

ADVICE = "put the key in an environment variable and name it with api_key_env=NAME"


def refuse_credentials_in_spec(spec: str) -> None:
    """Raise if a whole spec string looks like it carries a credential; checked before
    the spec is parsed, so no later message can echo one."""
    _check_value(spec, "it")


def refuse_secret_options(options: Mapping[str, object]) -> None:
    """Raise for options whose name says they hold a secret (`api_key=...`)."""
    for name in options:
        if _SECRET_NAMES.match(name) and name.lower() != "api_key_env":
            raise UserInputError(
                f"a --system spec must not carry credentials (option {name!r}): {ADVICE}"
            )


def _check_value(value: str, where: str) -> None:
    if _URL_USERINFO.search(value):
        raise UserInputError(
            f"a --system spec must not carry credentials ({where} has a URL with "
            f"user or password before the host): {ADVICE}"
        )
    if _SECRET_VALUES.search(value):
        raise UserInputError(
            f"a --system spec must not carry credentials ({where} looks like an API key "
            f"or token): {ADVICE}"
        )


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced: the last guard on messages."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text
