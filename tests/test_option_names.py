"""One name per choice: `align` takes `--align` and `--align-unit` as `run` does, and
still reads its old `--method` and `--unit` for a release."""

from __future__ import annotations

import json

import pytest

from tests.synthetic_parallel import SyntheticSet


@pytest.mark.parametrize("unit", ["paragraph", "sentence"])
def test_align_reads_the_run_names_and_the_old_ones_alike(cli, synthetic_set: SyntheticSet, unit):
    base = ("align", "--data", synthetic_set.folder, "--doc", synthetic_set.with_ref, "--json")
    new = cli(*base, "--align", "length", "--align-unit", unit)
    old = cli(*base, "--method", "length", "--unit", unit)
    assert new.exit_code == 0 and old.exit_code == 0, new.output + old.output
    assert json.loads(new.stdout) == json.loads(old.stdout)
    assert json.loads(new.stdout)["unit"] == unit and json.loads(new.stdout)["method"] == "length"


def test_align_refuses_what_run_refuses(cli, synthetic_set: SyntheticSet):
    done = cli("align", "--data", synthetic_set.folder, "--doc", synthetic_set.with_ref,
               "--align", "sideways")  # fmt: skip
    assert done.exit_code == 2


def _commands(group, path=()):
    """(name path, command) of every command of the CLI."""
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_help_screens_show_no_python_types(cli):
    """Flags take no placeholder, values read TEXT, PATH, INTEGER or FLOAT."""
    import typer.main

    from evalkit.cli import app

    for path, _ in _commands(typer.main.get_command(app)):
        shown = cli(*path, "--help")
        assert shown.exit_code == 0, path
        options = shown.output.split("Options")[-1]
        for placeholder in ("<bool>", "<str>", "<list[", "<path>", "<int>", "<float>"):
            assert placeholder not in options, (path, placeholder)
