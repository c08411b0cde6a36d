"""A third-party package adds an engine and a metric through entry points: installed
with pip (into a folder of its own, so the project's environment is left as it was),
then used by `evalkit run` in a fresh process."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden_run import write_test_set

PLUGIN = Path(__file__).with_name("plugin_demo")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("plugin")
    source = work / "source"
    shutil.copytree(PLUGIN, source)
    target = work / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
    command += [str(target), str(source)]
    if importlib.util.find_spec("setuptools") is not None:
        command.insert(4, "--no-build-isolation")  # build offline with what is installed
    subprocess.run(command, check=True, capture_output=True)
    return target


def evalkit(args: list[str], plugin_path: Path, work: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PYTHONPATH=str(plugin_path),
        EVALKIT_RESULTS=str(work / "results"),
        EVALKIT_CACHE=str(work / "cache.sqlite"),
    )
    return subprocess.run(
        [str(BIN / "evalkit"), *args], env=env, capture_output=True, text=True, check=False
    )


def test_a_plugin_engine_and_metric_run_without_changing_evalkit(
    plugin_path: Path, tmp_path: Path
) -> None:
    data = tmp_path / "set"
    data.mkdir()
    write_test_set(data)
    args = ["run", "--data", str(data), "--align", "length", "--metric", "length_ratio"]
    args += ["--metric", "chrf", "--system", "rev=reverse-words,prefix=>>"]
    done = evalkit(args, plugin_path, tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "results").iterdir()
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (run / "segments.jsonl").read_text().splitlines()]
    scored = [r for r in rows if r["ref"] is not None and r["hyp"].get("rev") is not None]
    assert scored
    for row in scored:  # the plugin engine's output, unit by unit
        assert row["hyp"]["rev"].startswith(">>")
    hyp_chars = sum(len(r["hyp"]["rev"]) for r in scored)
    ref_chars = sum(len(r["ref"]) for r in scored)
    corpus = record["scores"]["rev"]["corpus"]
    assert corpus["length_ratio"] == pytest.approx(hyp_chars / ref_chars)
    assert "length_ratio|chars|v1" in [m["signature"] for m in record["metrics"]]


def test_a_plugin_is_refused_a_built_in_name_and_its_options_are_checked(
    plugin_path: Path, tmp_path: Path
) -> None:
    data = tmp_path / "set"
    data.mkdir()
    write_test_set(data)
    bad = evalkit(
        ["run", "--data", str(data), "--system", "reverse-words,colour=red"], plugin_path, tmp_path
    )
    assert bad.returncode == 2
    assert "colour" in bad.stderr
    listed = evalkit(["run", "--data", str(data), "--system", "nope"], plugin_path, tmp_path)
    assert listed.returncode == 2 and "reverse-words" in listed.stderr  # plugins are listed
