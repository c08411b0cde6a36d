"""Housekeeping: `evalkit runs` with judgments, `runs rm|prune`, `cache prune` and the
model artefacts, through the real CLI; the concurrent cases with real processes (a cache
pruned while another process writes to it, a run deleted while another reads it, a
deletion killed half-way)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cache import TranslationCache, cache_key
from evalkit.cli import app
from evalkit.engines.base import Translation
from evalkit.engines.packaged_models import PACKAGED_MODELS, missing_parts
from evalkit.housekeeping.units import parse_age, parse_size
from evalkit.judgments.jsonl import read as read_jsonl
from evalkit.judgments.model import Judgment
from evalkit.judgments.store import JudgmentStore, QueueItem
from evalkit.record import RUN_FILE, read_record, read_segments

ROOT = Path(__file__).resolve().parents[1]
#: the cheapest run: the copy system, one metric, no alignment model
RUN = ("run", "--system", "copy", "--metric", "bleu", "--align", "length", "--json")
DAY = 86_400.0
MODEL = PACKAGED_MODELS["qwen2.5-coder-0.5b-instruct"]


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache folder of the test's own: artefacts are never looked for, or removed,
    in the real one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "evalkit"


@pytest.fixture
def ask(cli):
    """The CLI with something typed at its question (`cli` set the folders already)."""
    runner = CliRunner()

    def invoke(*args: str, answer: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=answer, catch_exceptions=False)

    return invoke


def make_run(cli, name: str, *extra: str) -> str:
    done = cli(*RUN, "--name", name, *extra)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)["run_id"]


def judge(results_dir: Path, run_id: str, annotators: tuple[str, ...] = ("ana",)) -> None:
    rows = list(read_segments(results_dir / run_id))
    JudgmentStore.in_results(results_dir).save_many(
        [
            Judgment(
                run_id=run_id,
                segment_id=rows[0].id,
                system="copy",
                annotator=who,
                protocol="da",
                score=70,
                complete=True,
            )
            for who in annotators
        ]
    )


def listed(cli) -> dict[str, dict]:
    return {r["run_id"]: r for r in json.loads(cli("runs", "--json").stdout)}


# --- evalkit runs -----------------------------------------------------------------------


def test_runs_lists_the_judgments_of_each_run(cli, results_dir: Path):
    first, second = make_run(cli, "first"), make_run(cli, "second")
    judge(results_dir, second, ("ana", "bo"))
    runs = listed(cli)
    assert runs[first]["judgments"] == 0 and runs[second]["judgments"] == 2
    assert runs[first]["systems"]["copy"]["corpus"]["bleu"] is not None  # as before
    table = cli("runs").stdout
    assert "judgments" in table
    assert next(line for line in table.splitlines() if second in line).rstrip(" │").endswith("2")


# --- runs rm ----------------------------------------------------------------------------


def test_rm_asks_first_and_deletes_nothing_unconfirmed(ask, cli, results_dir: Path):
    run_id = make_run(cli, "doomed")
    for answer in (None, "n\n"):  # no answer at all (a script), or no
        refused = ask("runs", "rm", run_id, answer=answer)
        assert refused.exit_code == 2 and "not confirmed: nothing deleted" in refused.stderr
        assert (results_dir / run_id / RUN_FILE).is_file()
    done = ask("runs", "rm", run_id[:17], answer="y\n")  # a unique prefix
    assert done.exit_code == 0, done.output
    assert "deleted 1 run" in done.stdout and not (results_dir / run_id).exists()
    assert run_id not in listed(cli)


def test_rm_with_yes_latest_and_json(cli, results_dir: Path):
    keep, doomed = make_run(cli, "keep"), make_run(cli, "doomed")
    size = sum(p.stat().st_size for p in (results_dir / doomed).iterdir())
    done = cli("runs", "rm", "latest", "--yes", "--json")
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["dry_run"] is False and [r["run_id"] for r in payload["runs"]] == [doomed]
    assert payload["freed_bytes"] == size
    assert list(listed(cli)) == [keep]
    assert not [p for p in results_dir.iterdir() if p.name.startswith(".")]  # no leftover


def test_rm_dry_run_lists_and_deletes_nothing(cli, results_dir: Path):
    run_id = make_run(cli, "kept")
    shown = cli("runs", "rm", run_id, "--dry-run")
    assert shown.exit_code == 0 and run_id in shown.stdout
    assert "would delete 1 run (" in shown.stdout and "kB)" in shown.stdout
    as_json = json.loads(cli("runs", "rm", run_id, "--dry-run", "--json").stdout)
    assert as_json["dry_run"] is True and as_json["freed_bytes"] > 0
    assert (results_dir / run_id / RUN_FILE).is_file()


def test_rm_of_an_unknown_run_deletes_nothing(cli, results_dir: Path):
    run_id = make_run(cli, "kept")
    refused = cli("runs", "rm", run_id, "nope", "--yes")
    assert refused.exit_code == 2 and "no run 'nope'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert (results_dir / run_id / RUN_FILE).is_file()


def test_group_options_go_after_the_subcommand(cli, results_dir: Path):
    run_id = make_run(cli, "kept")
    refused = cli("runs", "--results-dir", results_dir, "rm", run_id, "--yes")
    assert refused.exit_code == 2 and "go after the subcommand" in refused.stderr
    assert (results_dir / run_id / RUN_FILE).is_file()


def test_rm_refuses_a_judged_run_unless_asked(cli, results_dir: Path):
    judged_id, other = make_run(cli, "judged"), make_run(cli, "other")
    judge(results_dir, judged_id, ("ana", "bo"))
    store = JudgmentStore.in_results(results_dir)
    first_row = next(read_segments(results_dir / judged_id)).id
    store.set_queue(judged_id, "ana", "da", [QueueItem(first_row, "copy")])
    refused = cli("runs", "rm", judged_id, "--yes")
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "judgments reference 1 run" in refused.stderr
    assert "--with-judgments" in refused.stderr and judged_id in refused.stderr
    assert (results_dir / judged_id / RUN_FILE).is_file()
    dry = cli("runs", "rm", judged_id, "--dry-run", "--with-judgments")
    assert "would delete 1 run" in dry.stdout and "and 2 judgments" in dry.stdout

    done = cli("runs", "rm", judged_id, "--yes", "--with-judgments")
    assert done.exit_code == 0, done.output
    assert "and 2 judgments" in done.stdout and judged_id not in listed(cli)
    assert store.judgments(judged_id) == [] and store.queue(judged_id, "ana", "da") == []
    # the deleted judgments were kept aside, and attach to another run of the test set
    copy = results_dir / "deleted-judgments" / f"{judged_id}.jsonl"
    assert str(copy) in done.stdout
    assert [j.annotator for _, j in read_jsonl(copy)] == ["ana", "bo"]
    moved = cli("judgments", "import", copy, "--run", other)
    assert moved.exit_code == 0, moved.output
    assert listed(cli)[other]["judgments"] == 2


# --- runs prune -------------------------------------------------------------------------


def _finished_long_ago(results_dir: Path, run_id: str) -> None:
    path = results_dir / run_id / RUN_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    record["finished"] = "2020-01-01T00:00:00+00:00"
    path.write_text(json.dumps(record), encoding="utf-8")


def test_prune_keeps_the_newest_and_judged_runs(ask, cli, results_dir: Path):
    oldest, judged_id, newer, newest = (make_run(cli, n) for n in ("a", "b", "c", "d"))
    judge(results_dir, judged_id)
    refused = ask("runs", "prune", "--keep", "1")
    assert refused.exit_code == 2 and "not confirmed" in refused.stderr
    assert len(listed(cli)) == 4
    dry = cli("runs", "prune", "--keep", "1", "--dry-run")
    assert "would delete 2 runs" in dry.stdout and oldest in dry.stdout and newer in dry.stdout
    assert "keeping 1 judged run" in dry.stderr and judged_id in dry.stderr
    done = ask("runs", "prune", "--keep", "1", answer="y\n")
    assert done.exit_code == 0, done.output
    assert list(listed(cli)) == [judged_id, newest]
    gone = cli("runs", "prune", "--keep", "1", "--yes", "--with-judgments")
    assert gone.exit_code == 0 and list(listed(cli)) == [newest]


def test_prune_older_than(cli, results_dir: Path):
    old, new = make_run(cli, "old"), make_run(cli, "new")
    _finished_long_ago(results_dir, old)
    assert "no runs to delete" in cli("runs", "prune", "--older-than", "30d", "--keep", "5").stdout
    done = cli("runs", "prune", "--older-than", "30d", "--yes", "--json")
    assert [r["run_id"] for r in json.loads(done.stdout)["runs"]] == [old]
    assert list(listed(cli)) == [new]
    for bad in (("--older-than", "30 days"), ()):
        refused = cli("runs", "prune", *bad, "--yes")
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1


def test_sizes_and_ages_as_written():
    assert parse_size("500M") == 500_000_000 and parse_size("2G") == 2_000_000_000
    assert parse_size("1.5GB") == 1_500_000_000 and parse_size("1MiB") == 2**20
    assert parse_age("36h") == 36 * 3600 and parse_age("2w") == 14 * DAY
    assert parse_age("30d") == 30 * DAY and parse_age("0") == 0


# --- deleting safely while others read ---------------------------------------------------

READER = """
import sys
from pathlib import Path
from evalkit.record import RunGone, read_record, read_segments
folder, marker = Path(sys.argv[1]), Path(sys.argv[2])
reads = 0
while True:
    try:
        record = read_record(folder)
        rows = list(read_segments(folder))
    except RunGone as gone:
        print(f"after {reads} whole reads: {gone}")
        break
    assert record.run_id == folder.name and rows
    reads += 1
    if reads == 1:
        marker.write_text("reading")
"""


def _python(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(marker: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_run_deleted_while_another_process_reads_it(cli, results_dir: Path, tmp_path: Path):
    run_id = make_run(cli, "read")
    reader = _python(READER, str(results_dir / run_id), str(tmp_path / "reading"))
    _wait_for(tmp_path / "reading", reader)
    assert cli("runs", "rm", run_id, "--yes").exit_code == 0
    out, errors = reader.communicate(timeout=60)
    # every read saw the whole run, then the run was gone: never half of it, never a crash
    assert reader.returncode == 0, errors
    assert f"run '{run_id}' was deleted" in out
    shown = cli("show", run_id)
    assert shown.exit_code == 2 and f"no run '{run_id}'" in shown.stderr


def test_show_names_a_run_deleted_after_it_was_found(cli, results_dir: Path, monkeypatch):
    """`show` finds the run, another process deletes it, then `show` reads it."""
    from evalkit.cli import run_store_commands
    from evalkit.housekeeping.runs import delete_runs, resolve_runs

    run_id = make_run(cli, "raced")
    real_find_run = run_store_commands.find_run

    def found_then_deleted(results: Path, ref: str) -> Path:
        folder = real_find_run(results, ref)
        delete_runs(resolve_runs(results, [ref]))
        return folder

    monkeypatch.setattr(run_store_commands, "find_run", found_then_deleted)
    shown = cli("show", run_id)
    assert shown.exit_code == 2 and "Traceback" not in shown.output
    assert shown.stderr.strip() == f"error: {results_dir}: run '{run_id}' was deleted (see " \
        "`evalkit runs`)"  # fmt: skip


KILLED_AFTER_RENAME = """
import os, sys
from pathlib import Path
from evalkit.housekeeping import runs
runs.shutil.rmtree = lambda *args, **kwargs: os._exit(9)  # killed right after the rename
runs.delete_runs(runs.resolve_runs(Path(sys.argv[1]), [sys.argv[2]]))
"""


def test_a_deletion_killed_half_way_leaves_no_run_and_is_swept(cli, results_dir: Path):
    doomed, other = make_run(cli, "doomed"), make_run(cli, "other")
    killed = _python(KILLED_AFTER_RENAME, str(results_dir), doomed)
    killed.communicate(timeout=60)
    assert killed.returncode == 9
    (leftover,) = [p for p in results_dir.iterdir() if p.name.startswith(".")]
    assert leftover.name.startswith(f".tmp-rm-{doomed}~{killed.pid}@")
    assert list(listed(cli)) == [other]  # the half-deleted run is not listed
    assert cli("show", doomed).exit_code == 2
    assert cli("show", str(leftover)).exit_code == 2
    # the next deletion (as the next stored run would) removes what the killed one left
    assert cli("runs", "rm", other, "--yes").exit_code == 0
    assert [p.name for p in results_dir.iterdir()] == []


# --- cache prune ------------------------------------------------------------------------


def _cache(results_dir: Path) -> Path:
    return results_dir.parent / "cache.sqlite"  # where the `cli` fixture puts it


def _stores(cli) -> dict[str, dict]:
    return json.loads(cli("cache", "info", "--json").stdout)["stores"]


def _age(cache: Path, days: float, table: str = "translations", where: str = "1") -> None:
    """Make entries look last used `days` ago."""
    with sqlite3.connect(cache) as db:
        stamp = time.time() - days * DAY
        db.execute(f"UPDATE {table} SET created = ?, used = NULL WHERE {where}", (stamp,))


def test_cache_prune_removes_what_no_stored_run_needs(cli, results_dir: Path, tmp_path: Path):
    (tmp_path / "s.de").write_text("ein Hund\neine Katze\n", encoding="utf-8")
    (tmp_path / "r.fr").write_text("un chien\nun chat\n", encoding="utf-8")
    plain = ("--src", tmp_path / "s.de", "--ref", tmp_path / "r.fr")
    doomed = make_run(cli, "de-fr", *plain, "--src-lang", "de", "--tgt-lang", "fr")
    kept = make_run(cli, "kept", "--metric", "chrf")
    before = _stores(cli)
    assert cli("runs", "rm", doomed, "--yes").exit_code == 0

    # used just now: a run in progress may need them, so the default spares them
    fresh = json.loads(cli("cache", "prune", "--json").stdout)
    assert fresh["planned"]["entries"] == 0 and fresh["removed"]["entries"] == 0

    _age(_cache(results_dir), 3)
    _age(_cache(results_dir), 3, "statistics")
    dry = cli("cache", "prune", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would remove 4 entries" in dry.stdout and "not traceable" in dry.stdout
    plan = json.loads(cli("cache", "prune", "--dry-run", "--json").stdout)
    assert plan["removed"] is None
    assert plan["stores"]["translations"]["unused"]["entries"] == 2  # the de→fr lines
    assert plan["stores"]["statistics"]["unused"]["entries"] == 2  # their bleu statistics
    assert _stores(cli)["translations"]["entries"] == before["translations"]["entries"]
    done = json.loads(cli("cache", "prune", "--json").stdout)
    assert done["removed"] == plan["planned"]
    after = _stores(cli)
    assert after["translations"]["entries"] == before["translations"]["entries"] - 2
    assert after["statistics"]["entries"] == before["statistics"]["entries"] - 2
    # what the kept run needs is all there: running it again finds every statistic
    again = cli(*RUN, "--metric", "chrf")
    assert again.exit_code == 0
    assert _stores(cli)["statistics"]["last_run"]["misses"] == 0
    assert json.loads(cli("runs", "--json").stdout)[0]["run_id"] == kept


def test_chat_replies_are_pruned_by_lru_only(cli, results_dir: Path):
    """The LLM judge's replies share the translations table under an engine id no run
    records: never "unused", only least recently used."""
    from evalkit.engines.chat_completion import CACHE_LANGS

    results_dir.mkdir()
    with TranslationCache(_cache(results_dir)) as cache:
        cache.put_many("judge-digest", *CACHE_LANGS, [("[chat]", Translation("reply"))])
        cache.put_many("gone-engine", "ar", "en", [("src", Translation("hyp"))])
    _age(_cache(results_dir), 30)
    plan = json.loads(cli("cache", "prune", "--dry-run", "--json").stdout)
    assert plan["stores"]["translations"]["unused"]["entries"] == 1  # not the reply
    lru = json.loads(cli("cache", "prune", "--max-size", "1", "--dry-run", "--json").stdout)
    assert lru["planned"]["entries"] == 2


def test_cache_prune_needs_the_results_folder(cli, results_dir: Path):
    assert not results_dir.exists()
    refused = cli("cache", "prune", "--dry-run")
    assert refused.exit_code == 2 and "no such results folder" in refused.stderr
    assert cli("cache", "prune", "--dry-run", "--no-unused").exit_code == 0


def test_cache_prune_max_size_drops_the_least_recently_used(cli, results_dir: Path):
    cache_path = _cache(results_dir)
    with TranslationCache(cache_path) as cache:
        cache.put_many("e", "ar", "en", [(f"s{i}", Translation("x" * 100)) for i in range(10)])
    with sqlite3.connect(cache_path) as db:  # s0 used longest ago ... s9 most recently
        for i in range(10):
            db.execute(
                "UPDATE translations SET used = ? WHERE source = ?",
                (time.time() - (20 - i) * DAY, f"s{i}"),
            )
        size = db.execute("SELECT LENGTH(key) + LENGTH(translation) FROM translations").fetchone()
    limit = str(4 * size[0] + 10)
    plan = json.loads(
        cli("cache", "prune", "--no-unused", "--max-size", limit, "--dry-run", "--json").stdout
    )
    assert plan["stores"]["translations"]["lru"]["entries"] == 6
    assert cli("cache", "prune", "--no-unused", "--max-size", limit).exit_code == 0
    with sqlite3.connect(cache_path) as db:
        left = sorted(row[0] for row in db.execute("SELECT source FROM translations"))
    assert left == ["s6", "s7", "s8", "s9"]
    # what was used recently stays even beyond the size, and the dry run says so
    tight = cli("cache", "prune", "--no-unused", "--max-size", "1", "--keep-recent", "7w")
    assert "over --max-size" in tight.stdout and "removed 0 entries" in tight.stdout


OLD_SCHEMA = """
CREATE TABLE translations (key TEXT PRIMARY KEY, engine TEXT NOT NULL, src_lang TEXT NOT NULL,
    tgt_lang TEXT NOT NULL, source TEXT NOT NULL, translation TEXT NOT NULL,
    created REAL NOT NULL, truncated INTEGER NOT NULL DEFAULT 0);
CREATE TABLE statistics (key TEXT PRIMARY KEY, stats TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL, created REAL NOT NULL);
"""
OLD_INSERT = (
    "INSERT OR REPLACE INTO translations "
    "(key, engine, src_lang, tgt_lang, source, translation, created, truncated) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def test_an_older_cache_file_gains_the_last_use_column_and_stays_readable(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        key = cache_key("e", "ar", "en", "old")
        db.execute(OLD_INSERT, (key, "e", "ar", "en", "old", "kept", time.time() - 9 * DAY, 0))
    with TranslationCache(path) as cache:
        assert cache.get_many([key]) == {key: Translation("kept")}
    with sqlite3.connect(path) as db:
        for table in ("translations", "statistics", "embeddings"):
            assert "used" in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        # found by a lookup: stamped as used now (it was used nine days ago)
        (used,) = db.execute("SELECT used FROM translations").fetchone()
        assert time.time() - used < 60
        # an older evalkit names its columns when it writes: it still can
        db.execute(OLD_INSERT, (cache_key("e", "ar", "en", "new"), "e", "ar", "en", "new",
                                "also", time.time(), 0))  # fmt: skip
    with TranslationCache(path) as cache:
        assert len(cache.get_many([key, cache_key("e", "ar", "en", "new")])) == 2


def test_a_lookup_stamps_only_entries_not_stamped_lately(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    with TranslationCache(path) as cache:
        cache.put_many("e", "ar", "en", [("a", Translation("A")), ("b", Translation("B"))])
        cache.statistics.put_many({"k": [1.0]})
    _age(path, 2, where="source = 'a'")
    _age(path, 2, "statistics")
    with TranslationCache(path) as cache:
        keys = [cache_key("e", "ar", "en", s) for s in "ab"]
        assert len(cache.get_many(keys)) == 2 and cache.statistics.get_many(["k"])
    with sqlite3.connect(path) as db:
        stamps = dict(db.execute("SELECT source, used FROM translations"))
        (stat_used,) = db.execute("SELECT used FROM statistics").fetchone()
    assert stamps["b"] is None  # written a moment ago: nothing to renew, nothing written
    assert time.time() - stamps["a"] < 60 and time.time() - stat_used < 60


WRITER = """
import sys, time
from pathlib import Path
from evalkit.cache import TranslationCache
from evalkit.engines.base import Translation
path, marker, batches = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with TranslationCache(path) as cache:
    for batch in range(batches):
        pairs = [(f"new {batch} {i}", Translation(f"out {batch} {i}")) for i in range(20)]
        cache.put_many("writer", "ar", "en", pairs)
        if batch == 0:
            marker.write_text("writing")
        time.sleep(0.002)
print("wrote", batches)
"""


def test_prune_while_another_process_writes(cli, results_dir: Path, tmp_path: Path):
    """One process stores translations batch by batch (as a run does) while this one
    prunes the same file again and again: the writer never fails, keeps every entry, the
    old entries go, and the file stays a sound database."""
    results_dir.mkdir()  # no runs: every old entry is unused
    cache_path = _cache(results_dir)
    with TranslationCache(cache_path) as cache:
        for chunk in range(10):
            pairs = [(f"old {chunk} {i}", Translation("o")) for i in range(1000)]
            cache.put_many("old", "ar", "en", pairs)
        cache.statistics.put_many({f"s{i}": [1.0] for i in range(2000)})
    _age(cache_path, 10)
    _age(cache_path, 10, "statistics")
    batches = 300
    writer = _python(WRITER, str(cache_path), str(tmp_path / "writing"), str(batches))
    _wait_for(tmp_path / "writing", writer)
    prunes = overlapped = 0
    while writer.poll() is None or prunes == 0:
        done = cli("cache", "prune", "--keep-recent", "1h", "--max-size", "1", "--json")
        assert done.exit_code == 0, done.output
        prunes += 1
        overlapped += writer.poll() is None
    out, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0 and f"wrote {batches}" in out, errors
    assert overlapped  # at least one prune ran while the writer wrote
    with sqlite3.connect(cache_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        engines = dict(db.execute("SELECT engine, COUNT(*) FROM translations GROUP BY engine"))
        assert db.execute("SELECT COUNT(*) FROM statistics").fetchone() == (0,)
    assert engines == {"writer": batches * 20}  # every entry written, none of the old


# --- model artefacts --------------------------------------------------------------------


def _touch_old(path: Path, days: float = 30) -> None:
    stamp = time.time() - days * DAY
    for item in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(item, (stamp, stamp))


def _write(path: Path, size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    return path


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def artefacts(user_cache: Path) -> dict[str, Path]:
    """A user cache folder as evalkit leaves it: a packaged model's GGUF, float32
    checkpoint (its config and tokenizer, its weights) and two conversions, and what
    interrupted or older versions left."""
    model_dir = user_cache / "packaged" / MODEL.name
    conversion = f"{MODEL.sha256[:24]}-float32"
    found = {
        "gguf": _write(model_dir / MODEL.gguf_name, 5000),
        "weights": _write(model_dir / "float32" / "model.safetensors", 8000),
        "float32": model_dir / "float32",
        "ct2": _write(user_cache / "ct2" / conversion / "model.bin", 7000).parent,
        "ct2 int8": _write(user_cache / "ct2" / f"{MODEL.sha256[:24]}-int8" / "model.bin").parent,
        "killed conversion": _write(
            user_cache / "ct2" / f".tmp-{conversion}-{_dead_pid()}" / "model.bin"
        ).parent,
        "unknown model": _write(user_cache / "packaged" / "retired-model" / "w.gguf").parent,
        "live conversion": _write(user_cache / "ct2" / f".tmp-x-int8-{os.getpid()}" / "a").parent,
    }
    _write(found["float32"] / "config.json", 10)
    _write(model_dir / ".lock", 0)  # the model's lock: not an artefact
    _write(user_cache / "translations.sqlite", 10)  # not an artefact: never touched
    for path in found.values():
        _touch_old(path)
    return found


def _as_packaged(results_dir: Path, run_id: str) -> None:
    """Make a stored run's system look like the packaged model on CTranslate2 float32."""
    path = results_dir / run_id / RUN_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    record["systems"][0].update(
        spec=f"packaged:{MODEL.name}",
        kind="packaged",
        fingerprint={
            "kind": "packaged",
            "model": MODEL.name,
            "sha256": MODEL.sha256,
            "revision": f"gguf-sha256:{MODEL.sha256}",
            "options": {"compute_type": "float32"},
            "engine": "ct2",
        },
    )
    path.write_text(json.dumps(record), encoding="utf-8")


def test_cache_info_lists_artefacts_and_their_users(cli, results_dir: Path, artefacts, user_cache):
    run_id = make_run(cli, "packaged")
    _as_packaged(results_dir, run_id)
    assert read_record(results_dir / run_id).systems[0].kind == "packaged"
    info = json.loads(cli("cache", "info", "--json").stdout)
    by_path = {Path(a["path"]): a for a in info["artefacts"]}
    assert set(by_path) == set(artefacts.values())
    user = f"packaged:{MODEL.name} (1 run)"
    assert by_path[artefacts["float32"]]["used_by"] == [user]
    assert by_path[artefacts["ct2"]]["used_by"] == [user]
    assert by_path[artefacts["ct2"]]["kind"] == "ct2 conversion"
    assert by_path[artefacts["ct2 int8"]]["used_by"] == []
    assert by_path[artefacts["ct2 int8"]]["model"] == MODEL.name
    assert by_path[artefacts["gguf"]]["size_bytes"] == 5000
    assert by_path[artefacts["float32"]]["kind"] == "config and tokenizer"
    assert by_path[artefacts["float32"]]["size_bytes"] == 10  # the weights are listed apart
    assert by_path[artefacts["weights"]]["kind"] == "float32 weights"
    assert by_path[artefacts["weights"]]["size_bytes"] == 8000
    assert by_path[artefacts["weights"]]["used_by"] == []  # a CTranslate2 run loads none
    assert by_path[artefacts["killed conversion"]]["kind"] == "leftover"
    assert by_path[artefacts["live conversion"]]["kind"] == "being written"
    shown = cli("cache", "info").stdout
    assert "model artefacts under" in shown and "ct2 conversion" in shown


def test_cache_prune_removes_leftovers_and_on_request_artefacts(cli, results_dir, artefacts):
    run_id = make_run(cli, "packaged")
    _as_packaged(results_dir, run_id)
    leftovers = {artefacts["killed conversion"], artefacts["unknown model"]}
    dry = json.loads(cli("cache", "prune", "--dry-run", "--artefacts", "--json").stdout)
    prunable = {Path(a["path"]) for a in dry["artefacts"] if a["prunable"]}
    rebuildable = not missing_parts(MODEL)  # the GGUF is joined again from its packages
    assert prunable == leftovers | {artefacts["ct2 int8"], artefacts["weights"]} | (
        {artefacts["gguf"]} if rebuildable else set()
    )
    assert all(path.exists() for path in artefacts.values())

    done = cli("cache", "prune")  # leftovers only
    assert done.exit_code == 0 and "removed 2 artefacts and leftovers" in done.stdout
    assert not any(path.exists() for path in leftovers)
    assert artefacts["ct2 int8"].exists() and artefacts["live conversion"].exists()

    assert cli("cache", "prune", "--artefacts").exit_code == 0
    assert not artefacts["ct2 int8"].exists() and not artefacts["weights"].exists()
    assert artefacts["gguf"].exists() is not rebuildable
    for used in ("float32", "ct2", "live conversion"):  # a stored run uses them; one is written
        assert artefacts[used].exists(), used
    assert (artefacts["float32"].parents[2] / "translations.sqlite").exists()
    assert not [p for p in artefacts["ct2"].parent.iterdir() if p.name.startswith(".tmp-rm-")]


def test_artefacts_used_recently_stay(cli, results_dir: Path, artefacts):
    results_dir.mkdir()
    os.utime(artefacts["ct2 int8"] / "model.bin")  # read a moment ago
    dry = json.loads(cli("cache", "prune", "--artefacts", "--dry-run", "--json").stdout)
    by_path = {Path(a["path"]): a for a in dry["artefacts"]}
    assert by_path[artefacts["ct2 int8"]]["reason"] == "kept: used recently"
    assert by_path[artefacts["ct2"]]["prunable"]  # no stored run uses it any more


def test_leftovers_go_and_artefacts_stay(artefacts, user_cache):
    """What killed writes and earlier versions left goes (with the next run of a model
    engine, below); artefacts and a conversion being written stay."""
    from evalkit.housekeeping.artefacts import remove_leftovers

    removed, _ = remove_leftovers(user_cache)
    assert removed == 2
    assert not artefacts["killed conversion"].exists()
    assert not artefacts["unknown model"].exists()
    for kept in ("gguf", "float32", "weights", "ct2", "ct2 int8", "live conversion"):
        assert artefacts[kept].exists(), kept


@pytest.mark.parametrize(("kind", "cleans"), [("ct2", True), ("packaged", True), ("files", False)])
def test_a_run_of_a_model_engine_removes_leftovers_first(monkeypatch, tmp_path, kind, cleans):
    from evalkit import run_api
    from evalkit.corpus.resolve import load_test_set
    from evalkit.engines import create_systems

    calls = []
    monkeypatch.setattr(run_api, "remove_leftovers", lambda: calls.append(True))
    src = tmp_path / "s.ar"
    src.write_text("نص\n", encoding="utf-8")
    (named,) = create_systems([f"files:{src}"])
    monkeypatch.setattr(type(named.system), "kind", kind)
    run_api.evaluate(load_test_set(None, src, [src]), [named], ["bleu"], cache=False,
                     results_dir=None)  # fmt: skip
    assert bool(calls) is cleans
