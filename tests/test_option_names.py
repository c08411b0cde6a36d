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
