"""The documented exit codes: 0 success, 1 internal error (short message; --debug shows the
traceback), 2 bad input, 3 a service failed after its retries, 130 interrupted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.engines.base import DecodingOptions, TranslationEngine
from evalkit.engines.registry import register

ROOT = Path(__file__).resolve().parents[1]
AR = "مرحبا بالعالم\n"
EN = "Hello world\n"


@register("test-raises")
class RaisingEngine(TranslationEngine):
    """Raises what its argument names: a bug (RuntimeError) or a Ctrl-C (KeyboardInterrupt)."""

    Options = DecodingOptions

    def fingerprint(self):
        return {"kind": self.kind, "argument": self.argument}

    def translate(self, segments, src_lang, tgt_lang):
        if self.argument == "interrupt":
            raise KeyboardInterrupt
        raise RuntimeError("a bug in an engine")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "s.ar").write_text(AR, encoding="utf-8")
    (tmp_path / "r.en").write_text(EN, encoding="utf-8")
    return tmp_path / "s.ar", tmp_path / "r.en"


def test_success_is_0(cli, files):
    src, ref = files
    assert cli("run", "--src", src, "--ref", ref, "-m", "chrf").exit_code == 0


def test_bad_input_is_2(cli, files, tmp_path):
    _, ref = files
    result = cli("run", "--src", tmp_path / "missing.ar", "--ref", ref)
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_internal_error_is_1_with_one_line_and_no_traceback(cli, files, results_dir):
    src, ref = files
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", "test-raises:bug")
    assert result.exit_code == 1
    assert "internal error: RuntimeError: a bug in an engine" in result.stderr
    assert "--debug" in result.stderr and "Traceback" not in result.output
    assert not results_dir.exists() or not any(results_dir.iterdir())


def test_interrupt_is_130_and_writes_nothing(cli, files, results_dir):
    src, ref = files
    result = cli("run", "--src", src, "--ref", ref, "-m", "chrf", "-s", "test-raises:interrupt")
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert not results_dir.exists() or not any(results_dir.iterdir())


def test_debug_shows_the_traceback_of_an_internal_error(files, tmp_path):
    """A real process: --debug lets the exception through, so Python prints its traceback."""
    src, ref = files
    code = "import tests.test_exit_codes; from evalkit.cli import app; app(prog_name='evalkit')"
    args = ["run", "--src", str(src), "--ref", str(ref), "-m", "chrf", "-s", "test-raises:bug"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), EVALKIT_RESULTS=str(tmp_path / "results"))
    env["EVALKIT_CACHE"] = str(tmp_path / "cache.sqlite")
    plain = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    debug = subprocess.run(
        [sys.executable, "-c", code, "--debug", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "RuntimeError: a bug in an engine" in debug.stderr
