"""Shared fixtures: the CLI runner, a results folder per test, small test sets on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.data import builtin_test_sets

SEEDS = builtin_test_sets()["seeds"]
SEED_SOURCE_000 = SEEDS / "000_09131ef7724dbe94.txt"
SEED_REFERENCE_000 = SEEDS / "004_136ef84fddf0255b.txt"


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


def write_manifest_dir(folder: Path, documents: list[dict], files: dict[str, str | bytes]) -> Path:
    """A test set folder with the given files and a manifest listing `documents`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    manifest = {"schema_version": 1, "name": folder.name, "documents": documents}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder
