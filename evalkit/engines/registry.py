"""Systems by spec: `--system [LABEL=]KIND[:ARGUMENT][,KEY=VALUE...]`.

Examples: `copy`, `mt=files:out/`, `hf-seq2seq:Helsinki-NLP/opus-mt-ar-en,beam_size=4`,
`openai:MODEL,base_url=http://host-a:8000/v1|http://host-b:8000/v1`.

Options that need more than a spec holds (JSON, commas) come from a file the system
names, such as `options_file=` of the served-model engine. Built-in kinds are imported
on first use (heavy engines also import their libraries inside the class), so listing or
creating light systems stays fast; a package adds a kind with an `evalkit.engines` entry
point (see evalkit.registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalkit.engines.base import System
from evalkit.engines.credentials import refuse_credentials_in_spec, refuse_secret_options
from evalkit.errors import UserInputError
from evalkit.registry import Registry, Spec, parse_spec
from evalkit.run_config import SystemEntry

ENGINES: Registry[System] = Registry(
    "system kind",
    "evalkit.engines",
    {
        "copy": "evalkit.engines.copy:CopyEngine",
        "files": "evalkit.engines.files:FilesSystem",
        "data": "evalkit.engines.bundled:DataSystem",
        "hf-seq2seq": "evalkit.engines.hf_seq2seq:HFSeq2SeqEngine",
        "hf-causal": "evalkit.engines.hf_causal:HFCausalEngine",
        "ct2": "evalkit.engines.ct2:CT2Engine",
        "packaged": "evalkit.engines.packaged:PackagedEngine",
        "openai": "evalkit.engines.openai_api:OpenAIEngine",
    },
)

#: class decorator: make a system available under a kind in `--system` specs
register = ENGINES.register


def registered_kinds() -> dict[str, type[System]]:
    """Every kind and its class (imports every engine module and plugin)."""
    return ENGINES.all()


@dataclass(frozen=True)
class NamedSystem:
    """A system with the label it carries in tables and run records."""

    label: str
    spec: str
    system: System


def create_system(spec: str | SystemEntry) -> NamedSystem:
    """Build the system a spec string (or a run file's system table) names."""
    text = spec if isinstance(spec, str) else spec.spec_text()
    refuse_credentials_in_spec(text)  # before parsing, so no later message echoes one
    if isinstance(spec, str):
        parsed = parse_spec(spec, labelled=True)
    else:
        parsed = Spec(text, spec.kind, spec.argument, dict(spec.options), spec.label)
    refuse_secret_options(parsed.options)
    system = ENGINES.create(parsed)
    body = text.split("=", 1)[1] if parsed.label else text
    return NamedSystem(label=parsed.label or body, spec=text, system=system)


def create_systems(specs: Sequence[str | SystemEntry]) -> list[NamedSystem]:
    """Build all systems first, so a typo in the last one fails before any work starts."""
    systems = [create_system(spec) for spec in specs]
    labels = [named.label for named in systems]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise UserInputError(
            f"two systems share the label {duplicates[0]!r}; name them with LABEL=SPEC"
        )
    return systems
