from pathlib import Path

import pytest

from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_system, create_systems
from evalkit.errors import UserInputError
from tests.conftest import write_manifest_dir


@pytest.fixture
def two_docs(tmp_path: Path):
    docs = [
        {"id": "a", "source": {"file": "a.ar", "lang": "ar"}},
        {"id": "b", "source": {"file": "b.ar", "lang": "ar"}},
    ]
    folder = write_manifest_dir(tmp_path / "set", docs, {"a.ar": "١\n\n٢\n", "b.ar": "٣\n"})
    return load_test_set(str(folder))


def test_folder_with_one_file_per_document(tmp_path, two_docs):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("one\n\ntwo\n", encoding="utf-8")  # blank line kept as in source
    (out / "b").write_text("three\n", encoding="utf-8")
    system = create_system(f"files:{out}").system
    assert system.hypotheses(two_docs) == {"a": ["one", "two"], "b": ["three"]}


def test_single_file_is_split_by_document(tmp_path, two_docs):
    out = tmp_path / "all.txt"
    out.write_text("one\ntwo\nthree\n", encoding="utf-8")
    named = create_system(f"sys=files:{out}")
    assert named.label == "sys"
    assert named.system.hypotheses(two_docs) == {"a": ["one", "two"], "b": ["three"]}


def test_missing_document_output_is_named(tmp_path, two_docs):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="no output for document 'b'"):
        create_system(f"files:{out}").system.hypotheses(two_docs)


def test_fingerprint_changes_with_content(tmp_path):
    out = tmp_path / "h.txt"
    out.write_text("x\n", encoding="utf-8")
    before = create_system(f"files:{out}").system.fingerprint_hash()
    out.write_text("y\n", encoding="utf-8")
    assert create_system(f"files:{out}").system.fingerprint_hash() != before


def test_labels_must_be_unique():
    with pytest.raises(UserInputError, match="share the label 'copy'"):
        create_systems(["copy", "copy"])
