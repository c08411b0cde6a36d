"""Refuse an option given twice where only one value is kept; name values plainly in help.

click keeps the last value of a single-valued option given twice, without a word: with
`--ref A --ref B` on a command that took one reference, the score silently came from B.
Every evalkit command is built with `StrictCommand`, which stops with a usage error
(exit 2) instead. Repeatable options (`--system`, `--metric`, `--ref`) and counters are
unaffected.

typer's help also shows Python types as placeholders (`--no-cache <bool>`,
`--store <list[str]>`); `StrictCommand` shows none for a flag and click's plain names
(TEXT, PATH, INTEGER) for values.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

# typer may build commands with its own copy of click: its classes are reached through
# typer's objects, never imported from the click package


class StrictCommand(TyperCommand):
    """A command that refuses a single-valued option given more than once."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            _plain_metavar(param)
        return params

    def make_parser(self, ctx: Any) -> Any:
        parser = super().make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args: list[str]) -> Any:
            opts, rest, order = parse(args)
            _refuse_repeats(ctx, order)
            return opts, rest, order

        parser.parse_args = parse_args
        return parser


#: placeholders for the types of option values, in click's words
_PLACEHOLDERS = {"str": "TEXT", "Path": "PATH", "int": "INTEGER", "float": "FLOAT"}


def _plain_metavar(param: Any) -> None:
    """No placeholder for a flag; TEXT, PATH, INTEGER or FLOAT for a value (of each value
    of a repeatable option); choices keep their list."""
    if param.param_type_name != "option" or param.metavar is not None:
        return
    if param.is_flag:
        param.metavar = ""
        return
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        if descriptor.is_list:  # typer shows <list[a|b]>: each value is one of a, b
            choices = [getattr(c, "value", c) for c in descriptor.choices or ()]
            param.metavar = "<" + "|".join(str(c) for c in choices) + ">"
        return
    annotation = descriptor.annotation
    if descriptor.is_list:
        (annotation,) = getattr(annotation, "__args__", (annotation,))
    name = getattr(annotation, "__name__", str(annotation))
    if name in _PLACEHOLDERS:
        param.metavar = _PLACEHOLDERS[name]


def _refuse_repeats(ctx: Any, order: list[Any]) -> None:
    """click's parser lists a parameter once for each time it was given."""
    seen: set[str | None] = set()
    for param in order:
        if param.param_type_name != "option" or param.multiple or param.count:
            continue
        if param.name in seen:
            raise typer.BadParameter(
                "given more than once; it takes one value (only the last would count)",
                ctx=ctx,
                param=param,
            )
        seen.add(param.name)


def make_commands_strict(app: typer.Typer) -> None:
    """Build every command of `app` and of its sub-apps as a `StrictCommand`."""
    for info in app.registered_commands:
        if info.cls is None or info.cls is TyperCommand:
            info.cls = StrictCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            make_commands_strict(group.typer_instance)
