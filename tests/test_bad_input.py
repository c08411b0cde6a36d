"""Every bad input: one clear message naming the file (and line), exit code 2, no run left."""

from pathlib import Path

import pytest

from tests.conftest import write_manifest_dir

AR = "مرحبا بالعالم\n"
EN = "Hello world\n"


def _assert_refused(result, results_dir: Path, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.stderr
    leftovers = list(results_dir.iterdir()) if results_dir.exists() else []
    assert leftovers == [], f"something was written: {leftovers}"


def test_missing_source_file(cli, results_dir, tmp_path):
    missing = tmp_path / "nope.ar"
    (tmp_path / "r.en").write_text(EN, encoding="utf-8")
    result = cli("run", "--src", missing, "--ref", tmp_path / "r.en")
    _assert_refused(result, results_dir, str(missing), "file not found")


def test_missing_file_named_in_manifest(cli, results_dir, tmp_path):
    folder = write_manifest_dir(
        tmp_path / "set", [{"id": "a", "source": {"file": "gone.txt", "lang": "ar"}}], {}
    )
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, str(folder / "gone.txt"), "file not found")


def test_undecodable_bytes_name_the_line(cli, results_dir, tmp_path):
    (tmp_path / "s.ar").write_bytes(AR.encode() + b"second \xff line\n")
    (tmp_path / "r.en").write_text(EN + EN, encoding="utf-8")
    result = cli("run", "--src", tmp_path / "s.ar", "--ref", tmp_path / "r.en")
    _assert_refused(result, results_dir, f"{tmp_path / 's.ar'}:2:", "not valid UTF-8")


def test_line_count_mismatch_in_parallel_files(cli, results_dir, tmp_path):
    (tmp_path / "s.ar").write_text(AR * 3, encoding="utf-8")
    (tmp_path / "r.en").write_text(EN * 2, encoding="utf-8")
    result = cli("run", "--src", tmp_path / "s.ar", "--ref", tmp_path / "r.en")
    _assert_refused(result, results_dir, "line-count mismatch", "3 lines", "2 in")


def test_duplicate_document_ids(cli, results_dir, tmp_path):
    doc = {"id": "a", "source": {"file": "a.txt", "lang": "ar"}}
    folder = write_manifest_dir(tmp_path / "set", [doc, doc], {"a.txt": AR})
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, "manifest.json", "duplicate document id 'a'")


@pytest.mark.parametrize("content", ["", "\n  \n\n"])
def test_empty_document(cli, results_dir, tmp_path, content):
    folder = write_manifest_dir(
        tmp_path / "set",
        [{"id": "a", "source": {"file": "a.txt", "lang": "ar"}}],
        {"a.txt": content},
    )
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, str(folder / "a.txt"), "empty document")


def test_empty_parallel_file(cli, results_dir, tmp_path):
    (tmp_path / "s.ar").write_text("", encoding="utf-8")
    result = cli("run", "--src", tmp_path / "s.ar")
    _assert_refused(result, results_dir, str(tmp_path / "s.ar"), "empty file")


def test_invalid_manifest_names_the_field(cli, results_dir, tmp_path):
    folder = write_manifest_dir(tmp_path / "set", [{"id": "a", "source": {"lang": "ar"}}], {})
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, "manifest.json", "documents.0.source.file")


def test_hypothesis_file_with_wrong_line_count(cli, results_dir, tmp_path):
    (tmp_path / "s.ar").write_text(AR * 2, encoding="utf-8")
    (tmp_path / "r.en").write_text(EN * 2, encoding="utf-8")
    (tmp_path / "h.en").write_text(EN * 3, encoding="utf-8")
    result = cli(
        "run",
        "--src",
        tmp_path / "s.ar",
        "--ref",
        tmp_path / "r.en",
        "--system",
        f"files:{tmp_path / 'h.en'}",
    )
    _assert_refused(result, results_dir, str(tmp_path / "h.en"), "expected 2 lines")


def test_unknown_system_and_metric(cli, results_dir):
    _assert_refused(cli("run", "--system", "nmt:x"), results_dir, "unknown system kind 'nmt'")
    _assert_refused(cli("run", "--metric", "meteor"), results_dir, "unknown metric 'meteor'")


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_manifest_files_outside_the_folder_are_refused(cli, results_dir, tmp_path, how):
    outside = tmp_path / "secret.txt"
    outside.write_text("a private file\n", encoding="utf-8")
    folder = tmp_path / "set"
    name = {"relative": "../secret.txt", "absolute": str(outside), "symlink": "link.txt"}[how]
    doc = {"id": "a", "source": {"file": name, "lang": "ar"}}
    write_manifest_dir(folder, [doc], {})
    if how == "symlink":
        (folder / "link.txt").symlink_to(outside)
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, "manifest.json", "outside the test set's folder")
    assert "a private file" not in result.output


@pytest.mark.parametrize("doc_id", ["../a", "a/b", "a\\b", ".hidden", "tab\there", " a"])
def test_document_ids_unsafe_as_file_names_are_refused(cli, results_dir, tmp_path, doc_id):
    doc = {"id": doc_id, "source": {"file": "a.txt", "lang": "ar"}}
    folder = write_manifest_dir(tmp_path / "set", [doc], {"a.txt": AR})
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, "manifest.json", "not safe as a file name")


def test_a_symlink_inside_the_folder_is_followed(cli, results_dir, tmp_path):
    folder = write_manifest_dir(
        tmp_path / "set", [{"id": "a", "source": {"file": "link.txt", "lang": "ar"}}], {}
    )
    (folder / "real.txt").write_text(AR, encoding="utf-8")
    (folder / "link.txt").symlink_to(folder / "real.txt")
    result = cli("run", "--data", folder, "-m", "chrf")
    assert result.exit_code == 0, result.output


def test_a_corrupt_cache_file_is_named_with_how_to_move_it_aside(cli, results_dir, tmp_path):
    cache = tmp_path / "broken.sqlite"
    garbage = b"this is not a database\x00" * 64
    cache.write_bytes(garbage)
    (tmp_path / "s.ar").write_text(AR, encoding="utf-8")
    (tmp_path / "r.en").write_text(EN, encoding="utf-8")
    result = cli("run", "--src", tmp_path / "s.ar", "--ref", tmp_path / "r.en", "--cache", cache)
    _assert_refused(result, results_dir, str(cache), "not a readable SQLite file", "mv ")
    assert "Traceback" not in result.output
    assert cache.read_bytes() == garbage


def test_a_cache_from_before_the_truncated_column_is_upgraded_in_place(tmp_path):
    import sqlite3

    from evalkit.cache import TranslationCache, cache_key

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE translations (key TEXT PRIMARY KEY, engine TEXT NOT NULL, src_lang "
            "TEXT NOT NULL, tgt_lang TEXT NOT NULL, source TEXT NOT NULL, translation TEXT NOT "
            "NULL, created REAL NOT NULL)"
        )
        key = cache_key("e", "ar", "en", "نص")
        db.execute("INSERT INTO translations VALUES (?, 'e', 'ar', 'en', 'نص', 'text', 0)", (key,))
    with TranslationCache(path) as cache:
        (found,) = cache.get_many([key]).values()
    assert found.text == "text" and found.truncated is False
