"""Crash safety with real processes: evalkit killed (kill -9) or interrupted (Ctrl-C) while
translating, scoring, storing the run record or writing the report leaves no partial or
corrupt run where `runs`, `show` and `compare` look; the cache stays a valid SQLite file;
and running again ends with the result of a run never interrupted. Several runs sharing
one cache file at once all finish.

Each victim runs under tests/crash_points.py, which stops it at the chosen point and says
so through a marker file; the test then sends the signal."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.atomic import sweep
from evalkit.cli import app
from evalkit.cli.progress import is_progress_line
from evalkit.record import RUN_FILE, SEGMENTS_FILE, STAGING_PREFIX, read_segments

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "ذهب الولد إلى المدرسة صباحا",
    "قرأت البنت كتابا جديدا في المكتبة",
    "ارتفعت أسعار النفط في الأسواق العالمية",
    "يلعب الأطفال في الحديقة بعد الظهر",
    "أعلنت الحكومة عن خطة جديدة للتعليم",
    "هطلت الأمطار بغزارة على المدينة",
]
REFERENCES = [
    "The boy went to school in the morning",
    "The girl read a new book in the library",
    "Oil prices rose on world markets",
    "The children play in the garden in the afternoon",
    "The government announced a new plan for education",
    "Heavy rain fell on the city",
]
HYPOTHESES = [
    "The boy went to the school in the morning",
    "The girl read a book in the library",
    "Oil prices went up in global markets",
    "Children play in the park after noon",
    "The government announced a new education plan",
    "It rained heavily on the city",
]
#: the first system translates (test-slow reverses each sentence, two per batch, and
#: caches them); the second reads hypotheses from a file. Cheap metrics, no alignment:
#: no model is loaded anywhere
SYSTEMS = ["--system", "slow=test-slow:,batch_size=2", "--system", "mt=files:hyp.txt"]
METRICS = ["-m", "chrf", "-m", "bleu", "--align", "none"]
KILL, CTRL_C = signal.SIGKILL, signal.SIGINT
PROCESS_TIMEOUT = 120


@dataclass
class Reference:
    """A run never interrupted: what every rerun must give again."""

    folder: Path
    summary: dict
    rows: list
    report: str


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _evalkit(
    workdir: Path, stage: str, *arguments: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """evalkit in its own process, stopped at `stage` (see tests/crash_points.py)."""
    environment = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SLOW_ENGINE_LOG=str(workdir / "translated.log"),
        CRASH_POINT_MARKER=str(workdir / "reached"),
        COLUMNS="200",
        **(env or {}),
    )
    environment.pop("EVALKIT_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_points", stage, "--", *arguments],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_arguments(workdir: Path) -> list[str]:
    return [
        "run",
        "--src",
        "src.txt",
        "--ref",
        "ref.txt",
        *SYSTEMS,
        *METRICS,
        "--cache",
        str(workdir / "cache.sqlite"),
        "--results-dir",
        str(workdir / "results"),
        "--json",
    ]


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # tests/crash_points.py: print where it hangs
        time.sleep(1)
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"evalkit did not end within {PROCESS_TIMEOUT} s:\n{err[-6000:]}")
    return process.returncode, out, err


def _workdir(tmp_path: Path) -> Path:
    _write_lines(tmp_path / "src.txt", SOURCES)
    _write_lines(tmp_path / "ref.txt", REFERENCES)
    _write_lines(tmp_path / "hyp.txt", HYPOTHESES)
    return tmp_path


def _cli(*arguments: str | Path):
    return CliRunner().invoke(app, [str(a) for a in arguments], catch_exceptions=False)


def _without_time(report: str) -> str:
    return re.sub(r"generated \S+", "generated TIME", report)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    workdir = _workdir(tmp_path_factory.mktemp("reference"))
    code, out, err = _finish(_evalkit(workdir, "none", *_run_arguments(workdir)))
    assert code == 0, err
    summary = json.loads(out)
    folder = Path(summary["path"])
    if not folder.is_absolute():
        folder = workdir / folder
    report = workdir / "report.html"
    assert _cli("report", folder, "-o", report).exit_code == 0
    return Reference(
        folder, summary, list(read_segments(folder)), report.read_text(encoding="utf-8")
    )


def _stop_at(workdir: Path, stage: str, arguments: list[str], how: signal.Signals):
    """Start evalkit, wait until it reaches `stage`, send `how`; (exit status, stderr)."""
    victim = _evalkit(workdir, stage, *arguments)
    marker = workdir / "reached"
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not marker.exists():
        if victim.poll() is not None:
            pytest.fail(f"evalkit ended before reaching {stage}: {victim.communicate()}")
        if time.monotonic() > deadline:
            victim.kill()
            pytest.fail(f"evalkit did not reach {stage}")
        time.sleep(0.02)
    assert marker.read_text(encoding="utf-8") == "", "a model library was loaded"
    victim.send_signal(how)
    code, _, err = _finish(victim)
    if how == KILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130, err
        lines = [line for line in err.splitlines() if line.strip() and not is_progress_line(line)]
        assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    return code, err


def _assert_no_run_visible(results: Path) -> None:
    listed = _cli("runs", "--results-dir", results, "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert "warning" not in listed.stderr
    for command in (["show", "latest"], ["compare", "latest"], ["report", "latest"]):
        shown = _cli(*command, "--results-dir", results)
        assert shown.exit_code == 2 and "no runs yet" in shown.stderr, (command, shown.output)
    for leftover in results.glob(".*") if results.is_dir() else []:
        refused = _cli("show", leftover, "--results-dir", results)
        assert refused.exit_code == 2 and "not a run" in refused.stderr


def _assert_valid_cache(path: Path) -> int:
    """The cache file is a sound SQLite database; how many translations it holds."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (entries,) = db.execute("SELECT COUNT(*) FROM translations").fetchone()
    db.close()
    return entries


def _assert_same_result(summary: dict, reference: Reference) -> None:
    for label in ("slow", "mt"):
        assert summary["systems"][label]["corpus"] == reference.summary["systems"][label]["corpus"]
        assert (
            summary["systems"][label]["documents"]
            == reference.summary["systems"][label]["documents"]
        )
    rows = list(read_segments(Path(summary["path"])))
    assert [r.hyp for r in rows] == [r.hyp for r in reference.rows]
    assert [r.scores for r in rows] == [r.scores for r in reference.rows]


@pytest.mark.slow  # real evalkit processes, stopped and run again
@pytest.mark.parametrize("how", [KILL, CTRL_C], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize("stage", ["translate", "cache", "score", "record", "rename"])
def test_a_run_stopped_anywhere_leaves_no_run_and_reruns_to_the_same_result(
    tmp_path: Path, reference: Reference, stage: str, how: signal.Signals
):
    workdir = _workdir(tmp_path)
    results, cache, log = workdir / "results", workdir / "cache.sqlite", workdir / "translated.log"
    _stop_at(workdir, stage, _run_arguments(workdir), how)

    leftovers = sorted(p.name for p in results.glob(".*")) if results.is_dir() else []
    if how == KILL and stage in ("record", "rename"):
        # the staging folder stays behind, hidden, and holds what the victim got to write
        assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-")
        written = {p.name for p in (results / leftovers[0]).iterdir()}
        assert written == ({SEGMENTS_FILE} if stage == "record" else {SEGMENTS_FILE, RUN_FILE})
    else:
        assert leftovers == [], "Ctrl-C cleans up; before the record nothing is on disk"
    _assert_no_run_visible(results)
    cached = _assert_valid_cache(cache)
    translated_before = log.read_text(encoding="utf-8").splitlines()
    # stopped in its second batch, or storing its third translation, the victim had
    # cached two sentences; stopped later, all of them
    assert cached == (2 if stage in ("translate", "cache") else len(SOURCES))

    code, out, err = _finish(_evalkit(workdir, "none", *_run_arguments(workdir)))
    assert code == 0, err
    summary = json.loads(out)
    _assert_same_result(summary, reference)
    translated_again = log.read_text(encoding="utf-8").splitlines()[len(translated_before) :]
    assert len(translated_again) == len(SOURCES) - cached, "only what was not cached"
    assert _assert_valid_cache(cache) == len(SOURCES)

    listed = json.loads(_cli("runs", "--results-dir", results, "--json").stdout)
    assert [r["run_id"] for r in listed] == [summary["run_id"]]
    assert _cli("compare", "latest", "--results-dir", results).exit_code == 0
    # what the killed process left behind is gone once the next run is stored
    assert sorted(p.name for p in results.iterdir()) == [summary["run_id"]]


@pytest.mark.slow
@pytest.mark.parametrize("how", [KILL, CTRL_C], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize("previous", [True, False], ids=["replacing", "first"])
def test_a_report_stopped_while_written_leaves_the_previous_one_whole(
    tmp_path: Path, reference: Reference, previous: bool, how: signal.Signals
):
    workdir = _workdir(tmp_path)
    results = workdir / "results"
    folder = results / reference.folder.name
    shutil.copytree(reference.folder, folder, ignore=shutil.ignore_patterns("report.html"))
    report = folder / "report.html"
    if previous:
        assert _cli("report", "latest", "--results-dir", results).exit_code == 0
        before = report.read_bytes()
    arguments = ["report", "latest", "--results-dir", str(results), "--seed", "7"]
    _stop_at(workdir, "report", arguments, how)

    if previous:
        assert report.read_bytes() == before, "the previous report was changed"
    else:
        assert not report.exists(), "a report appeared"
    temporaries = [p for p in folder.iterdir() if p.name.startswith(".")]
    if how == KILL:  # the half-written temporary stays behind, hidden
        assert len(temporaries) == 1 and temporaries[0].name.startswith(".report.html.")
        half = temporaries[0].read_text(encoding="utf-8")
        assert half and "</html>" not in half
    else:
        assert temporaries == []
    # the run is untouched and reads as before
    listed = json.loads(_cli("runs", "--results-dir", results, "--json").stdout)
    assert [r["run_id"] for r in listed] == [reference.folder.name]
    shown = _cli("show", "latest", "--results-dir", results, "--json")
    assert json.loads(shown.stdout)["systems"] == reference.summary["systems"]
    assert _cli("compare", "latest", "--results-dir", results).exit_code == 0

    rerun = _evalkit(workdir, "none", "report", "latest", "--results-dir", "results")
    code, _, err = _finish(rerun)
    assert code == 0, err
    assert _without_time(report.read_text(encoding="utf-8")) == _without_time(reference.report)
    # the temporary the killed process left is gone once the next report is written
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", RUN_FILE, SEGMENTS_FILE]


@pytest.mark.slow
def test_runs_sharing_one_cache_file_all_finish(tmp_path: Path, reference: Reference):
    """Three runs start at the same moment on one new cache file and one results folder,
    and write their translations to it one by one, interleaved: all finish, alike."""
    workdir = _workdir(tmp_path)
    arguments = [
        a.replace("batch_size=2", "batch_size=1") for a in _run_arguments(workdir)
    ]  # a write to the cache every 0.3 s in each process
    start_at = time.time() + 3  # all three open the cache together, past their imports
    runs = [
        _evalkit(workdir, "none", *arguments, env={"CRASH_POINT_START_AT": str(start_at)})
        for _ in range(3)
    ]
    finished = [_finish(run) for run in runs]
    for code, _, err in finished:
        assert code == 0, err
        assert "locked" not in err and "busy" not in err
    summaries = [json.loads(out) for _, out, _ in finished]
    for summary in summaries:
        _assert_same_result(summary, reference)
    listed = json.loads(_cli("runs", "--results-dir", workdir / "results", "--json").stdout)
    assert sorted(r["run_id"] for r in listed) == sorted(s["run_id"] for s in summaries)
    assert len({s["run_id"] for s in summaries}) == 3
    assert _assert_valid_cache(workdir / "cache.sqlite") == len(SOURCES)


@pytest.mark.slow
def test_a_run_waits_for_a_cache_file_another_process_holds(tmp_path: Path, reference):
    """A new cache file held by another process (here: the test, mid-write) when a run
    opens it: the run waits for it instead of failing with "database is locked"."""
    workdir = _workdir(tmp_path)
    holder = sqlite3.connect(workdir / "cache.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE other (x)")
    opening = workdir / "opening"
    run = _evalkit(
        workdir, "none", *_run_arguments(workdir), env={"CRASH_POINT_OPENING": str(opening)}
    )
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not opening.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.0)  # the run is opening the cache, and finds it locked
    still_waiting = run.poll() is None
    holder.execute("COMMIT")
    holder.close()
    code, out, err = _finish(run)
    assert code == 0 and still_waiting, err
    _assert_same_result(json.loads(out), reference)


def test_only_temporaries_of_ended_writers_are_swept(tmp_path: Path):
    """A run being stored by another process right now keeps its staging folder."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    host = socket.gethostname()
    try:
        kept = [
            f".tmp-run1~{running.pid}@{host}",  # its writer is still at work
            f".tmp-run2~{os.getpid()}@{host}",  # this process's own
            f".tmp-run3~{ended.stdout.strip()}@other-{host}",  # another host's: unknowable
            ".tmp-run4",  # no writer named
            f"run5~{ended.stdout.strip()}@{host}",  # not a temporary
        ]
        for name in [*kept, f".tmp-run6~{ended.stdout.strip()}@{host}"]:
            (tmp_path / name).mkdir()
        sweep(tmp_path, STAGING_PREFIX)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    finally:
        running.kill()
        running.wait()
