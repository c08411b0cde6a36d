"""Every bad input: one clear message naming the file (and line), exit code 2, no run left."""

from pathlib import Path

import pytest

from evalkit.cache import TranslationCache
from evalkit.cli.progress import is_progress_line
from tests.conftest import write_manifest_dir

AR = "مرحبا بالعالم\n"
EN = "Hello world\n"


def _assert_refused(result, results_dir: Path, *fragments: str) -> None:
    """Exit 2, one line naming what is wrong, no traceback, no run, no cache written (the
    `cli` fixture's cache file sits beside the results folder)."""
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.output
    # progress lines (a log has no terminal: stages are announced) come before the error
    lines = [line for line in result.stderr.strip().splitlines() if not is_progress_line(line)]
    assert len(lines) == 1, result.stderr
    leftovers = list(results_dir.iterdir()) if results_dir.exists() else []
    assert leftovers == [], f"something was written: {leftovers}"
    cache = results_dir.parent / "cache.sqlite"
    if cache.exists():  # opened before the bad input was found: still nothing stored
        with TranslationCache(cache) as opened:
            assert opened.info().entries == 0, "the cache was written"


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


def _plain_pair(tmp_path: Path, src: bytes, ref: bytes) -> tuple[Path, Path]:
    (tmp_path / "s.ar").write_bytes(src)
    (tmp_path / "r.en").write_bytes(ref)
    return tmp_path / "s.ar", tmp_path / "r.en"


@pytest.mark.parametrize(
    ("bad", "name"),
    [(b"\x00", "NUL"), (b"\x1b[31m", "ESC"), (b"\x07", "BEL"), (b"\x7f", "DEL")],
)
def test_control_characters_are_refused_with_their_line(cli, results_dir, tmp_path, bad, name):
    src, ref = _plain_pair(tmp_path, AR.encode() * 2, EN.encode() + b"bad " + bad + b"\n")
    result = cli("run", "--src", src, "--ref", ref)
    _assert_refused(result, results_dir, f"{ref}:2:", f"({name})", "control character")


def test_a_nul_byte_suggests_a_binary_or_utf16_file(cli, results_dir, tmp_path):
    src, ref = _plain_pair(tmp_path, b"a\x00b\n", EN.encode())
    result = cli("run", "--src", src, "--ref", ref)
    _assert_refused(result, results_dir, f"{src}:1:", "binary or UTF-16")


def test_tabs_are_text_not_control_characters(cli, results_dir, tmp_path):
    src, ref = _plain_pair(tmp_path, AR.encode(), b"Hello\tworld\n")
    assert cli("run", "--src", src, "--ref", ref, "-m", "chrf").exit_code == 0


@pytest.mark.parametrize(
    ("encoding", "said"),
    [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16 (big-endian)"), ("utf-32", "UTF-32")],
)
def test_utf16_and_utf32_files_are_recognised_by_their_bom(
    cli, results_dir, tmp_path, encoding, said
):
    data = AR.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    src, ref = _plain_pair(tmp_path, data, EN.encode())
    result = cli("run", "--src", src, "--ref", ref)
    _assert_refused(result, results_dir, str(src), said, "iconv")


def test_a_utf8_bom_is_accepted(cli, results_dir, tmp_path):
    src, ref = _plain_pair(tmp_path, b"\xef\xbb\xbf" + AR.encode(), EN.encode())
    assert cli("run", "--src", src, "--ref", ref, "-m", "chrf").exit_code == 0


@pytest.mark.parametrize("blank_side", ["source", "reference"])
def test_blank_line_facing_text_in_plain_files(cli, results_dir, tmp_path, blank_side):
    src_lines = [AR, AR, AR] if blank_side == "reference" else [AR, "\n", AR]
    ref_lines = [EN, "  \n", EN] if blank_side == "reference" else [EN, EN, EN]
    src, ref = _plain_pair(tmp_path, "".join(src_lines).encode(), "".join(ref_lines).encode())
    result = cli("run", "--src", src, "--ref", ref)
    named = src if blank_side == "source" else ref
    _assert_refused(result, results_dir, f"{named}:2:", f"{blank_side} line is blank")


def test_blank_lines_facing_blank_lines_are_kept(cli, results_dir, tmp_path):
    src, ref = _plain_pair(tmp_path, (AR + "\n" + AR).encode(), (EN + "\n" + EN).encode())
    assert cli("run", "--src", src, "--ref", ref, "-m", "chrf").exit_code == 0


def test_blank_source_facing_a_reference_in_a_tsv_row(cli, results_dir, tmp_path):
    table = tmp_path / "set.tsv"
    table.write_text("doc_id\tsrc\tref\nd\tمرحبا\tHello\nd\t \tWorld\n", encoding="utf-8")
    result = cli("run", "--data", table)
    _assert_refused(result, results_dir, f"{table}:3:", "src line is blank")


def test_a_control_character_escaped_inside_jsonl(cli, results_dir, tmp_path):
    table = tmp_path / "set.jsonl"
    table.write_text(
        '{"doc_id": "d", "src": "ok", "ref": "ok"}\n{"doc_id": "d", "src": "a\\u0000b"}\n',
        encoding="utf-8",
    )
    result = cli("run", "--data", table)
    _assert_refused(result, results_dir, f"{table}:2:", "column 'src'", "(NUL)")


@pytest.mark.parametrize("option", ["--src-lang", "--tgt-lang"])
def test_unknown_language_code_on_the_command_line(cli, results_dir, tmp_path, option):
    src, ref = _plain_pair(tmp_path, AR.encode(), EN.encode())
    result = cli("run", "--src", src, "--ref", ref, option, "arabic")
    _assert_refused(result, results_dir, f"unknown language code 'arabic' for {option}")


def test_unknown_language_code_in_a_manifest(cli, results_dir, tmp_path):
    doc = {"id": "a", "source": {"file": "a.txt", "lang": "xx"}}
    folder = write_manifest_dir(tmp_path / "set", [doc], {"a.txt": AR})
    result = cli("run", "--data", folder)
    _assert_refused(result, results_dir, "manifest.json", "unknown language code 'xx'")


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("openai:m,concurrency=many,base_url=http://127.0.0.1:9/v1", "'concurrency'"),
        ("openai:m,concurrency=-3,base_url=http://127.0.0.1:9/v1", "greater than or equal"),
        ("openai:m,timeout=soon,base_url=http://127.0.0.1:9/v1", "'timeout'"),
        ("openai:m,no_such_option=1,base_url=http://127.0.0.1:9/v1", "'no_such_option'"),
    ],
)
def test_option_values_of_the_wrong_type(cli, results_dir, tmp_path, spec, said):
    src, ref = _plain_pair(tmp_path, AR.encode(), EN.encode())
    result = cli("run", "--src", src, "--ref", ref, "-s", spec)
    _assert_refused(result, results_dir, "bad option", said)


def test_two_systems_with_one_label(cli, results_dir, tmp_path):
    src, ref = _plain_pair(tmp_path, AR.encode(), EN.encode())
    result = cli("run", "--src", src, "--ref", ref, "-s", "x=copy", "-s", "x=copy")
    _assert_refused(result, results_dir, "two systems share the label 'x'")


@pytest.fixture
def stored_run(cli, results_dir, tmp_path) -> Path:
    src, ref = _plain_pair(tmp_path, AR.encode() * 2, EN.encode() * 2)
    assert cli("run", "--src", src, "--ref", ref, "-m", "chrf").exit_code == 0
    (folder,) = results_dir.iterdir()
    return folder


def _refused_naming(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("damage", ["half", "not-json", "wrong-field", "not-utf8"])
def test_a_damaged_run_record_is_named_by_show_compare_and_report(
    cli, stored_run, tmp_path, damage
):
    record = stored_run / "run.json"
    text = record.read_bytes()
    record.write_bytes(
        {
            "half": text[: len(text) // 2],
            "not-json": b"garbage",
            "wrong-field": text.replace(b'"unit"', b'"unit_x"'),
            "not-utf8": b"\xff" + text,
        }[damage]
    )
    run_id = stored_run.name
    _refused_naming(cli("show", run_id), str(record))
    _refused_naming(cli("compare", run_id, run_id), str(record))
    _refused_naming(cli("report", run_id, "-o", tmp_path / "r.html"), str(record))
    assert not (tmp_path / "r.html").exists()
    listed = cli("runs")
    assert listed.exit_code == 0 and f"skipped {record}" in listed.stderr


@pytest.mark.parametrize("damage", ["half", "missing", "bad-row"])
def test_a_damaged_segments_file_is_named_by_compare_and_report(cli, stored_run, tmp_path, damage):
    segments = stored_run / "segments.jsonl"
    text = segments.read_bytes()
    if damage == "missing":
        segments.unlink()
    else:
        first, rest = text.split(b"\n", 1)
        cut = rest[: len(rest) // 2] if damage == "half" else b'{"doc_id": 1}\n'
        segments.write_bytes(first + b"\n" + cut)
    where = str(segments) if damage == "missing" else f"{segments}:2:"
    run_id = stored_run.name
    _refused_naming(cli("compare", run_id, run_id), where)
    _refused_naming(cli("report", run_id, "-o", tmp_path / "r.html"), where)
    assert not (tmp_path / "r.html").exists()
