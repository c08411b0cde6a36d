"""A run described in a TOML file (`evalkit run --config FILE.toml`).

A comparison of many systems is easier to review, diff and rerun as one file than as a
long command line, and TOML values need no escaping: options are tables, lists are
lists, a value may hold commas. Example:

    data = "seeds"                # a built-in name, or a folder / table relative to this file
    name = "qwen-sizes"
    metrics = ["bleu", "chrf", "comet:/models/wmt22-comet-da"]
    align = "length"

    [[systems]]
    label = "small"
    kind = "packaged"
    argument = "qwen2.5-coder-0.5b-instruct"

    [[systems]]
    label = "served"
    kind = "openai"
    argument = "qwen2.5-coder-1.5b-instruct"
    options = { base_url = ["http://a:8000/v1", "http://b:8000/v1"], stop = ["\\n\\n"] }

A system may also be a spec string (`systems = ["copy", "mt=files:out/"]`). Options given
on the command line win over the file's; `--system` and `--metric` on the command line
are added to the file's lists. Paths in the file (`data`, `src`, `ref`, a system's
argument when it names a file or folder there) are relative to the file's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.errors import UserInputError, first_problem

CONFIG_VERSION = 1


class SystemEntry(BaseModel):
    """One system as a table: what a spec string says, without its punctuation."""

    model_config = ConfigDict(extra="forbid")
    label: str | None = None
    kind: str
    argument: str | None = None
    options: dict[str, Any] = {}

    def spec_text(self) -> str:
        """The same system as a spec string, for the run record and messages."""
        text = f"{self.label}={self.kind}" if self.label else self.kind
        if self.argument:
            text += f":{self.argument}"
        for key, value in self.options.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            text += f",{key}={shown}"
        return text


class RunConfig(BaseModel):
    """Everything `evalkit run` takes, as values."""

    model_config = ConfigDict(extra="forbid")
    version: int = CONFIG_VERSION
    data: str | None = None
    src: str | None = None
    #: one reference file, or a list of them (several references of the same lines)
    ref: str | list[str] | None = None
    src_lang: str | None = None
    tgt_lang: str | None = None
    name: str | None = None
    systems: list[str | SystemEntry] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    unit: Literal["sentence", "paragraph"] | None = None
    #: embedding, length, translation[:LABEL] or none (evalkit/align/methods.py)
    align: str | None = Field(
        default=None, pattern=r"^(embedding|length|none|translation(:[^:\s]+)?)$"
    )
    align_unit: Literal["paragraph", "sentence"] | None = None
    encoder: str | None = None


def load_run_config(path: Path) -> RunConfig:
    """The file's run, its paths made absolute; errors name the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError("no such run file", path) from None
    except UnicodeDecodeError:
        raise UserInputError("the run file is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as error:
        raise UserInputError(f"not valid TOML: {error}", path) from None
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as error:
        raise UserInputError(first_problem(error), path) from None
    if config.version != CONFIG_VERSION:
        raise UserInputError(
            f"run file version {config.version}; this evalkit reads version {CONFIG_VERSION}",
            path,
        )
    return _with_paths_from(config, path.parent)


def _with_paths_from(config: RunConfig, folder: Path) -> RunConfig:
    """Relative paths that exist beside the file, made absolute."""

    def beside(value: str | None) -> str | None:
        if value is None or Path(value).is_absolute():
            return value
        candidate = folder / value
        return str(candidate.resolve()) if candidate.exists() else value

    systems: list[str | SystemEntry] = [
        entry
        if isinstance(entry, str)
        else entry.model_copy(update={"argument": beside(entry.argument)})
        for entry in config.systems
    ]
    return config.model_copy(
        update={
            "data": beside(config.data),
            "src": beside(config.src),
            "ref": [beside(r) for r in config.ref]
            if isinstance(config.ref, list)
            else beside(config.ref),
            "systems": systems,
        }
    )
