"""EVALKIT_REQUIRE_ALL=1 (set by `make test`, so by CI) turns a skip into a failure: an
optional part missing from an install must not pass unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("def test_x():\n    pytest.skip('no model here')\n", "FAILED"),
        ("pytest.importorskip('no_such_module_here')\n\ndef test_x():\n    pass\n", "ERROR"),
    ],
)
@pytest.mark.parametrize("required", ["1", ""])
def test_a_skip_fails_only_where_every_test_is_required(tmp_path, body, where, required):
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
        "__all__ = ['pytest_make_collect_report', 'pytest_runtest_makereport']\n"
    )
    (folder / "test_one.py").write_text("import pytest\n\n" + body)
    env = {**os.environ, "EVALKIT_REQUIRE_ALL": required, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if required:
        assert done.returncode != 0 and where in done.stdout, done.stdout
        assert "EVALKIT_REQUIRE_ALL=1 requires every test to run" in done.stdout
    else:
        # a module skipped whole leaves pytest nothing to run: exit 5, not a failure
        assert done.returncode in (0, 5) and "1 skipped" in done.stdout, done.stdout


def test_only_a_missing_gpu_may_skip_where_every_test_is_required(tmp_path):
    """A GPU test on a machine without CUDA skips under EVALKIT_REQUIRE_ALL=1 too: the
    exemption is the exact reason NO_CUDA, not any reason that mentions CUDA."""
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
        "__all__ = ['pytest_make_collect_report', 'pytest_runtest_makereport']\n"
    )
    (folder / "test_one.py").write_text(
        "import pytest\nfrom tests.conftest import NO_CUDA\n\n"
        "def test_gpu():\n    pytest.skip(NO_CUDA)\n\n"
        "def test_other():\n    pytest.skip(NO_CUDA + ', and no model either')\n"
    )
    env = {**os.environ, "EVALKIT_REQUIRE_ALL": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(folder)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "1 failed, 1 skipped" in done.stdout, done.stdout
