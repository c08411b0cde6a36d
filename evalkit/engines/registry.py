"""Systems by name: `--system [LABEL=]KIND[:ARGUMENT][,KEY=VALUE...]`.

Examples: `copy`, `mt=files:out/`, `hf-seq2seq:Helsinki-NLP/opus-mt-ar-en,beam_size=4`,
`openai:MODEL,base_url=http://host-a:8000/v1|http://host-b:8000/v1`.

Values cannot hold commas (they separate options); list-valued options take `|` between
items. Options that need more (JSON, commas) come from a file the system names, such as
`options_file=` of the served-model engine.

Engine modules register their class with `@register`; heavy engines import their
libraries inside the class, so listing or creating light systems stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from evalkit.engines.base import System
from evalkit.engines.credentials import refuse_credentials_in_spec, refuse_secret_options
from evalkit.errors import UserInputError

_REGISTRY: dict[str, type[System]] = {}
_LABEL = re.compile(r"^([A-Za-z0-9_.+\-]+)=(.+)$")


def register(kind: str):
    """Class decorator: make a system available under `kind` in `--system` specs."""

    def decorate(cls: type[System]) -> type[System]:
        if kind in _REGISTRY:
            raise ValueError(f"system kind {kind!r} registered twice")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return decorate


def registered_kinds() -> dict[str, type[System]]:
    return dict(_REGISTRY)


@dataclass(frozen=True)
class NamedSystem:
    """A system with the label it carries in tables and run records."""

    label: str
    spec: str
    system: System


def create_system(spec: str) -> NamedSystem:
    """Parse a spec string and build the system it names."""
    refuse_credentials_in_spec(spec)
    label = None
    body = spec
    match = _LABEL.match(spec)
    if match and ":" not in match.group(1):
        label, body = match.group(1), match.group(2)
    kind, _, rest = body.partition(":")
    argument, options = _split_options(rest, spec)
    refuse_secret_options(options)
    if kind not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise UserInputError(f"unknown system kind {kind!r} in {spec!r} (known: {known})")
    cls = _REGISTRY[kind]
    try:
        parsed = cls.Options.model_validate(options)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserInputError(f"bad option {where!r} in {spec!r}: {first['msg']}") from None
    system = cls(argument or None, parsed)
    return NamedSystem(label=label or body, spec=spec, system=system)


def _split_options(rest: str, spec: str) -> tuple[str, dict[str, str]]:
    """`ARG,key=value,key=value` -> ARG and the options (values validated by the system)."""
    argument, *pairs = rest.split(",")
    if "=" in argument:  # no argument, options only: `copy,x=1` is `copy:` + options
        pairs.insert(0, argument)
        argument = ""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserInputError(f"expected KEY=VALUE after ',' in {spec!r}, got {pair!r}")
        options[key.strip()] = value.strip()
    return argument, options


def create_systems(specs: list[str]) -> list[NamedSystem]:
    """Build all systems first, so a typo in the last one fails before any work starts."""
    systems = [create_system(spec) for spec in specs]
    labels = [named.label for named in systems]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise UserInputError(
            f"two systems share the label {duplicates[0]!r}; name them with LABEL=SPEC"
        )
    return systems
