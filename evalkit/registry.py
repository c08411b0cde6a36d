"""One registry for engines and metrics, one spec syntax for both.

A spec is `NAME[:ARGUMENT][,KEY=VALUE...]`: `ct2:PATH,compute_type=int8`, `comet:PATH`,
`copy`. Systems may carry a label in front (`LABEL=SPEC`). Values cannot hold commas
(they separate options); list-valued options take `|` between items.

Where an entry comes from, in the order a name is looked up:
1. classes registered with `Registry.register` (the decorator) as their module is imported;
2. built-ins listed by module path, imported on first use, so naming a light system or
   metric never imports the heavy ones;
3. entry points of installed packages (groups `evalkit.engines` and `evalkit.metrics`):
   a third-party package adds an engine or a metric without editing evalkit. A built-in
   name cannot be taken over by a plugin.

Everything registered is built the same way: `entry.build(Build)` (or `entry(Build)` for
a plain function), where `Build` holds the spec's argument, its options (validated by
the entry's pydantic `Options`, none when it has no `Options`) and the test set's
languages.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from evalkit.errors import UserInputError

T = TypeVar("T")
_LABEL = re.compile(r"^([A-Za-z0-9_.+\-]+)=(.+)$")
#: NAME, then `:ARGUMENT` (which may hold colons: URLs, drive letters), then `,OPTIONS`
_SPEC = re.compile(r"^([^:,]*)(?::([^,]*))?(?:,(.*))?$", re.DOTALL)


class NoOptions(BaseModel):
    """The options of an entry that takes none: any KEY=VALUE is refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Languages:
    """What an engine or metric may know of the test set: ISO 639-1 codes (`en`, `ar`)."""

    tgt_lang: str = "en"
    src_langs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A parsed spec: `[LABEL=]NAME[:ARGUMENT][,KEY=VALUE...]`."""

    text: str
    name: str
    argument: str | None = None
    #: strings from a spec string; any TOML value from a run file
    options: dict[str, Any] = field(default_factory=dict)
    label: str | None = None


@dataclass(frozen=True)
class Build:
    """What a registered engine or metric is built from."""

    argument: str | None
    options: BaseModel
    languages: Languages = Languages()


def parse_spec(text: str, labelled: bool = False) -> Spec:
    """Split a spec into its parts; `labelled` allows (and strips) a `LABEL=` prefix."""
    label, body = None, text
    with_label = _LABEL.match(text) if labelled else None
    if with_label and ":" not in with_label.group(1):
        label, body = with_label.group(1), with_label.group(2)
    match = _SPEC.match(body)
    if match is None:  # the pattern accepts every string; kept for the type checker
        raise UserInputError(f"cannot read the spec {text!r}")
    name, argument, rest = match.group(1), match.group(2) or "", match.group(3)
    pairs = rest.split(",") if rest is not None else []
    if "=" in argument:  # `copy:x=1` is `copy` with an option
        pairs.insert(0, argument)
        argument = ""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"expected KEY=VALUE after ',' in {text!r}, got {pair!r}")
        options[key.strip()] = value.strip()
    return Spec(text, name.strip(), argument or None, options, label)


class Registry(Generic[T]):
    """Entries by name: registered classes, lazily imported built-ins, entry points."""

    def __init__(self, what: str, group: str, builtins: dict[str, str]) -> None:
        self.what = what  # "system kind", "metric": how messages name an entry
        self.group = group
        self._builtins = dict(builtins)  # name -> "module:attribute"
        self._loaded: dict[str, Any] = {}
        self._plugins: dict[str, metadata.EntryPoint] | None = None

    def register(self, name: str) -> Callable[[Any], Any]:
        """Decorator: make `entry` available under `name` (it sets `entry.kind`)."""

        def decorate(entry: Any) -> Any:
            where = f"{entry.__module__}:{entry.__qualname__}"
            known = self._loaded.get(name)
            if known is not None and known is not entry:
                raise ValueError(f"{self.what} {name!r} registered twice")
            if name in self._builtins and self._builtins[name] != where and known is None:
                raise ValueError(f"{self.what} {name!r} is a built-in ({self._builtins[name]})")
            entry.kind = name
            self._loaded[name] = entry
            return entry

        return decorate

    def names(self) -> list[str]:
        """Every name: built-ins in their order, then registered, then plugins."""
        return list(dict.fromkeys([*self._builtins, *self._loaded, *self.plugins()]))

    def plugins(self) -> dict[str, metadata.EntryPoint]:
        """Entry points of installed packages, read once; built-in names are not theirs."""
        if self._plugins is None:
            found = metadata.entry_points(group=self.group)
            self._plugins = {ep.name: ep for ep in found if ep.name not in self._builtins}
        return self._plugins

    def get(self, name: str) -> Any:
        if name in self._loaded:
            return self._loaded[name]
        if name in self._builtins:
            module, _, attribute = self._builtins[name].partition(":")
            entry = getattr(importlib.import_module(module), attribute)
        elif name in self.plugins():
            entry = self._load_plugin(self.plugins()[name])
        else:
            raise UserInputError(f"unknown {self.what} {name!r} (known: {', '.join(self.names())})")
        if isinstance(entry, type):
            entry.kind = name
        self._loaded[name] = entry
        return entry

    def _load_plugin(self, point: metadata.EntryPoint) -> Any:
        try:
            return point.load()
        except Exception as error:  # a broken plugin must say which one
            package = point.dist.name if point.dist else "?"
            raise UserInputError(
                f"{self.what} {point.name!r} from package {package} could not be loaded: "
                f"{type(error).__name__}: {error}"
            ) from None

    def all(self) -> dict[str, Any]:
        """Every entry, loaded (imports every built-in module and plugin)."""
        return {name: self.get(name) for name in self.names()}

    def create(self, spec: Spec, languages: Languages | None = None) -> T:
        """Build the entry a spec names, its options validated by the entry's `Options`."""
        entry = self.get(spec.name)
        options_model = getattr(entry, "Options", NoOptions)
        try:
            options = options_model.model_validate(spec.options)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise UserInputError(f"bad option {where!r} in {spec.text!r}: {first['msg']}") from None
        build = getattr(entry, "build", entry)  # a class's build, or a plain function
        return build(Build(spec.argument, options, languages or Languages()))
