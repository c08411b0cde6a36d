"""Loading test sets: the built-in seeds, manifest folders, plain parallel files, tables."""

import json
from pathlib import Path

import pytest

from evalkit.corpus.resolve import load_test_set
from evalkit.data import builtin_test_sets
from evalkit.errors import UserInputError
from tests.conftest import write_manifest_dir


def test_the_builtin_set_is_the_default_and_loads_as_its_manifest_says():
    test_set = load_test_set()
    assert test_set.name == "seeds"  # the documented default (`--data` defaults to seeds)
    assert test_set.content_hash() == load_test_set("seeds").content_hash()
    assert test_set.content_hash().startswith("sha256:")
    # what is expected is read here from the set's own files, not known in advance
    folder = builtin_test_sets()["seeds"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    def lines(side: dict) -> tuple[str, ...]:
        text = (folder / side["file"]).read_text(encoding="utf-8")
        return tuple(line for line in text.splitlines() if line.strip())

    assert [doc.id for doc in test_set.documents] == [d["id"] for d in manifest["documents"]]
    assert any(d.get("reference") for d in manifest["documents"])
    for doc, entry in zip(test_set.documents, manifest["documents"], strict=True):
        assert doc.source.lang == entry["source"]["lang"]
        assert doc.source.segments == lines(entry["source"])
        assert doc.aligned == entry.get("aligned", False)
        if entry.get("reference"):
            assert doc.reference is not None
            assert doc.reference.lang == entry["reference"].get("lang", test_set.tgt_lang)
            assert doc.reference.segments == lines(entry["reference"])
        else:
            assert doc.reference is None


def test_content_hash_ignores_name_but_not_content(tmp_path: Path):
    docs = [{"id": "a", "source": {"file": "a.txt", "lang": "ar"}}]
    one = load_test_set(str(write_manifest_dir(tmp_path / "one", docs, {"a.txt": "نص\n"})))
    two = load_test_set(str(write_manifest_dir(tmp_path / "two", docs, {"a.txt": "نص\n"})))
    three = load_test_set(str(write_manifest_dir(tmp_path / "three", docs, {"a.txt": "نص آخر\n"})))
    assert one.content_hash() == two.content_hash() != three.content_hash()


def test_manifest_folder_keeps_paragraphs_and_pairs_reference(tmp_path: Path):
    folder = write_manifest_dir(
        tmp_path / "set",
        [
            {
                "id": "d1",
                "source": {"file": "d1.ar", "lang": "ar"},
                "reference": {"file": "d1.en"},
                "aligned": True,
            }
        ],
        {"d1.ar": "\ufeffأ\n\nب\r\n", "d1.en": "A\nB\n"},
    )
    doc = load_test_set(str(folder)).documents[0]
    assert doc.source.segments == ("أ", "ب")
    assert doc.reference is not None and doc.reference.segments == ("A", "B")
    assert doc.aligned


def test_parallel_files_keep_every_line(tmp_path: Path):
    (tmp_path / "s.txt").write_text("a\n\nc\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("A\n\nC\n", encoding="utf-8")
    test_set = load_test_set(src=tmp_path / "s.txt", ref=tmp_path / "r.txt")
    (doc,) = test_set.documents
    assert doc.source.segments == ("a", "", "c") and doc.aligned


def test_jsonl_groups_rows_by_document(tmp_path: Path):
    rows = [
        {"doc_id": "x", "src": "١", "ref": "1"},
        {"doc_id": "y", "src": "٢"},
        {"doc_id": "x", "src": "٣", "ref": "3"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    x, y = load_test_set(str(path)).documents
    assert x.source.segments == ("١", "٣") and x.reference.segments == ("1", "3")
    assert y.reference is None


def test_tsv_needs_a_header_and_reads_columns(tmp_path: Path):
    path = tmp_path / "set.tsv"
    path.write_text("doc_id\tsrc\tref\nd\tمرحبا\tHello\n", encoding="utf-8")
    (doc,) = load_test_set(str(path)).documents
    assert doc.source.segments == ("مرحبا",) and doc.reference.segments == ("Hello",)


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('{"doc_id": "a", "src": "x"}\n{"doc_id": "a", "src": "y", "ref": "Y"}\n', "ref", 2),
        ('{"doc_id": "a", "src": "x"}\n{"doc_id": "a"\n', "invalid JSON", 2),
        (
            '{"doc_id": "a", "src": "x", "seg_id": 1}\n{"doc_id": "a", "src": "y", "seg_id": 1}\n',
            "duplicate seg_id",
            2,
        ),
        ('{"src": "x"}\n', "missing column 'doc_id'", 1),
        ('{"doc_id": "a", "src": " "}\n', "empty document", 1),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path: Path, content: str, message: str, line: int):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserInputError) as caught:
        load_test_set(str(path))
    assert message in str(caught.value)
    assert caught.value.path == path and caught.value.line == line


def test_unknown_test_set_lists_the_builtins():
    with pytest.raises(UserInputError, match="seeds"):
        load_test_set("no-such-set")
