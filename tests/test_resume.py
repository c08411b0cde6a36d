"""kill -9 in the middle of a run loses at most the batch in flight; the rerun translates
only what is missing, and ends with the same result as a run never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.record import read_segments

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, log: Path, cache: Path, results: Path) -> subprocess.Popen:
    env = dict(os.environ, SLOW_ENGINE_LOG=str(log), PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "tests.slow_engine",
        "run",
        "--system",
        "slow=test-slow:,batch_size=4",
        "--cache",
        str(cache),
        "--results-dir",
        str(results),
        # what is under test is translation: the cheapest metric and alignment will do
        "--metric",
        "chrf",
        "--align",
        "length",
        "--json",
    ]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.mark.slow  # real evalkit processes, one of them killed
def test_killed_run_resumes_without_translating_twice(tmp_path: Path):
    log, cache, results = tmp_path / "calls.log", tmp_path / "cache.sqlite", tmp_path / "results"
    victim = _run(tmp_path, log, cache, results)
    deadline = time.time() + 120
    while len(_lines(log)) < 12 and time.time() < deadline:  # three batches done
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    before_kill = _lines(log)
    assert len(before_kill) >= 12, "the run should have been killed part-way"
    assert not results.exists() or not any(results.iterdir()), "no half-written run"

    resumed = _run(tmp_path, log, cache, results)
    summary = json.loads(resumed.communicate(timeout=300)[0])
    assert resumed.returncode == 0
    after = _lines(log)[len(before_kill) :]
    assert after, "the rerun had work left"
    # at most the batch in flight (4 segments) was lost and translated again
    assert len(set(before_kill) & set(after)) <= 4
    assert len(before_kill) + len(after) - len(set(before_kill) | set(after)) <= 4

    fresh_log, fresh_results = tmp_path / "fresh.log", tmp_path / "fresh"
    fresh = _run(tmp_path, fresh_log, tmp_path / "fresh.sqlite", fresh_results)
    fresh_summary = json.loads(fresh.communicate(timeout=300)[0])
    resumed_rows = list(read_segments(Path(summary["path"])))
    fresh_rows = list(read_segments(Path(fresh_summary["path"])))
    assert [r.hyp for r in resumed_rows] == [r.hyp for r in fresh_rows]
    assert summary["systems"]["slow"]["corpus"] == fresh_summary["systems"]["slow"]["corpus"]
    assert len(set(_lines(fresh_log))) == len(set(before_kill) | set(after))
